using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Kiln.Package.Tests;

/// <summary>
/// Packs Kiln and consumes it from a local folder feed in a project outside the solution,
/// the way users get it: the generator runs from analyzers/dotnet/cs and the runtimes come along.
/// </summary>
public sealed class PackageConsumerTests : IClassFixture<PackageConsumerTests.Feed>
{
    private readonly Feed _feed;

    public PackageConsumerTests(Feed feed) => _feed = feed;

    [Fact]
    public void A_user_project_trains_a_network_from_the_package()
    {
        var project = _feed.CreateProject("Consumer", """
            using Kiln;

            var (train, test) = Datasets.Iris().Split(0.25, seed: 3);
            using var net = new Tiny(seed: 3);
            net.Fit(train.Repeat().Shuffle(200, 3).Batch(16), epochs: 3, stepsPerEpoch: 50, options: new FitOptions { Verbose = false });
            var result = net.Evaluate(test.Batch(16));
            Console.WriteLine($"params={Tiny.ParameterCount} accuracy={result.Accuracy:0.00}");

            [Network]
            [Input(4)]
            #pragma warning disable KLN0018 // a pragma must silence Kiln's warnings at their attribute
            [Flatten]
            #pragma warning restore KLN0018
            [Dense(8, Activation.Tanh)]
            [Dense(3, Activation.Softmax)]
            partial class Tiny;
            """);

        var (exit, output) = _feed.Dotnet($"run --project \"{project}\"");

        Assert.True(exit == 0, output);
        var line = output.Split('\n').Single(l => l.StartsWith("params=", StringComparison.Ordinal)).Trim();
        Assert.StartsWith("params=67 accuracy=", line);
        Assert.True(double.Parse(line.Split('=')[2], System.Globalization.CultureInfo.InvariantCulture) > 0.6, line);
    }

    [Fact]
    public void A_wrong_network_is_a_compile_error_on_its_attribute_line()
    {
        var project = _feed.CreateProject("Broken", """
            using Kiln;

            [Network]
            [Input(28, 28, 1)]
            [Conv2D(8, 3)]
            [Dense(10, Activation.Softmax)]
            partial class Broken;
            """);

        var (exit, output) = _feed.Dotnet($"build \"{project}\"");

        Assert.NotEqual(0, exit);
        Assert.Contains("Program.cs(6,2): error KLN0005: Layer 'dense' (Dense) needs a vector input but receives shape (26, 26, 8); add [Flatten] before it", output);
    }

    /// <summary>Packs once per test run into a fresh folder, with its own package cache so no stale Kiln is picked up.</summary>
    public sealed class Feed : IDisposable
    {
        private readonly string _root = Directory.CreateTempSubdirectory("kiln-package-").FullName;

        public Feed()
        {
            var (exit, output) = Dotnet($"pack \"{Path.Combine(RepoRoot(), "src", "Dsl", "Dsl.csproj")}\" -c Release -o \"{FeedDirectory}\"");
            Assert.True(exit == 0, "dotnet pack failed:\n" + output);
            File.WriteAllText(Path.Combine(_root, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <add key="local" value="{FeedDirectory}" />
                  </packageSources>
                </configuration>
                """);
        }

        private string FeedDirectory => Path.Combine(_root, "feed");

        public string CreateProject(string name, string program)
        {
            var directory = Path.Combine(_root, name);
            Directory.CreateDirectory(directory);
            File.WriteAllText(Path.Combine(directory, name + ".csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <Nullable>enable</Nullable>
                    <ImplicitUsings>enable</ImplicitUsings>
                    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                    <RestorePackagesPath>{Path.Combine(_root, "packages")}</RestorePackagesPath>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="Kiln" Version="*" />
                  </ItemGroup>
                </Project>
                """);
            File.WriteAllText(Path.Combine(directory, "Program.cs"), program);
            return Path.Combine(directory, name + ".csproj");
        }

        public (int Exit, string Output) Dotnet(string arguments)
        {
            var start = new ProcessStartInfo("dotnet", arguments)
            {
                WorkingDirectory = _root,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            // Isolate the child build from the test host's MSBuild settings.
            start.Environment.Remove("MSBuildSDKsPath");
            start.Environment.Remove("MSBUILD_EXE_PATH");
            start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            process.WaitForExit();
            return (process.ExitCode, stdout.Result + stderr.Result);
        }

        public void Dispose() => Directory.Delete(_root, recursive: true);

        private static string RepoRoot([CallerFilePath] string file = "") =>
            Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, "..", ".."));
    }
}

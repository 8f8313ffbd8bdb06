using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Kiln.Package.Tests;

/// <summary>
/// Packs Kiln and Kiln.Datasets once per test run into a fresh folder feed, with its own package cache so no stale
/// Kiln is picked up, and writes consumer projects beside it, outside the repository.
/// </summary>
public sealed class Feed : IDisposable
{
    /// <summary>One feed for every test class: packing is the slow part.</summary>
    [CollectionDefinition(nameof(Feed))]
    public sealed class Collection : ICollectionFixture<Feed>;

    private readonly string _root = Directory.CreateTempSubdirectory("kiln-package-").FullName;

    public Feed()
    {
        foreach (var project in new[] { "Dsl/Dsl.csproj", "Datasets/Datasets.csproj" })
        {
            var (exit, output) = Dotnet($"pack \"{Path.Combine(RepoRoot(), "src", project)}\" -c Release -o \"{Packages}\"");
            Assert.True(exit == 0, $"dotnet pack {project} failed:\n" + output);
        }
        File.WriteAllText(Path.Combine(_root, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="local" value="{Packages}" />
              </packageSources>
            </configuration>
            """);
    }

    /// <summary>The folder holding the .nupkg files.</summary>
    public string Packages => Path.Combine(_root, "feed");

    /// <summary>
    /// An executable project with <paramref name="program"/> as Program.cs, referencing <paramref name="packages"/> from
    /// the feed (any version) or, instead, the project at <paramref name="projectReference"/>.
    /// </summary>
    public string CreateProject(string name, string program, string[]? packages = null, string? projectReference = null, string properties = "")
    {
        var directory = Path.Combine(_root, name);
        Directory.CreateDirectory(directory);
        var references = string.Join("\n    ", (packages ?? []).Select(p => $"<PackageReference Include=\"{p}\" Version=\"*-*\" />"));
        if (projectReference is not null)
        {
            references += $"<ProjectReference Include=\"{projectReference}\" />";
        }
        File.WriteAllText(Path.Combine(directory, name + ".csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                <RestorePackagesPath>{Path.Combine(_root, "packages")}</RestorePackagesPath>
                {properties}
              </PropertyGroup>
              <ItemGroup>
                {references}
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

    public static string RepoRoot([CallerFilePath] string file = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, "..", ".."));
}

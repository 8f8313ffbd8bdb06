using System.Globalization;

namespace Kiln.Package.Tests;

/// <summary>
/// Consumes the packed Kiln and Kiln.Datasets from a local folder feed in projects outside the repository, the way users
/// get them: the generator runs from analyzers/dotnet/cs, the runtimes and the build logic come along.
/// </summary>
[Collection(nameof(Feed))]
public sealed class PackageConsumerTests(Feed feed)
{
    [Fact]
    public void A_user_project_trains_a_network_on_the_embedded_data()
    {
        var project = feed.CreateProject("Consumer", """
            using Kiln;

            var (train, test) = Datasets.Iris().Split(0.25, seed: 3);
            using var net = new Tiny(seed: 3);
            net.Fit(train.Repeat().Shuffle(200, 3).Batch(16), epochs: 3, stepsPerEpoch: 50, options: new FitOptions { Verbose = false });
            var result = net.Evaluate(test.Batch(16));
            Console.WriteLine($"params={Tiny.ParameterCount} accuracy={result.Accuracy:0.00} digits={Datasets.Mnist().Test.Count}");
            // Google.Protobuf must come along as the package's dependency.
            net.ExportOnnx("tiny.onnx");
            Console.WriteLine($"onnx={new FileInfo("tiny.onnx").Length}");

            [Network]
            [Input(4)]
            #pragma warning disable KLN0018 // a pragma must silence Kiln's warnings at their attribute
            [Flatten]
            #pragma warning restore KLN0018
            [Dense(8, Activation.Tanh)]
            [Dense(3, Activation.Softmax)]
            partial class Tiny;
            """, packages: ["Kiln", "Kiln.Datasets"]);

        var (exit, output) = feed.Dotnet($"run --project \"{project}\"");

        Assert.True(exit == 0, output);
        var line = output.Split('\n').Single(l => l.StartsWith("params=", StringComparison.Ordinal)).Trim();
        Assert.StartsWith("params=67 accuracy=", line);
        Assert.EndsWith(" digits=2000", line);
        Assert.True(double.Parse(line.Split('=')[2].Split(' ')[0], CultureInfo.InvariantCulture) > 0.6, line);
        var onnx = output.Split('\n').Single(l => l.StartsWith("onnx=", StringComparison.Ordinal)).Trim();
        Assert.True(int.Parse(onnx["onnx=".Length..], CultureInfo.InvariantCulture) > 67 * sizeof(float), onnx);
    }

    [Fact]
    public void An_app_that_brings_its_own_data_carries_none_of_the_datasets()
    {
        var project = feed.CreateProject("OwnData", """
            using Kiln;

            var csv = Path.Combine(AppContext.BaseDirectory, "flowers.csv");
            File.WriteAllText(csv, "sepal_length,sepal_width,petal_length,petal_width,species\n5.1,3.5,1.4,0.2,setosa\n6.3,3.3,6.0,2.5,virginica\n");
            var flowers = Datasets.Iris(csv).ToList();
            using var net = new Tiny(seed: 1);
            Console.WriteLine($"flowers={flowers.Count} outputs={net.Predict(flowers[0].Features).Length}");

            [Network]
            [Input(4)]
            [Dense(3, Activation.Softmax)]
            partial class Tiny;
            """, packages: ["Kiln"]);

        var (exit, output) = feed.Dotnet($"run --project \"{project}\"");

        Assert.True(exit == 0, output);
        Assert.Contains("flowers=2 outputs=3", output);
        var bin = Path.Combine(Path.GetDirectoryName(project)!, "bin");
        var kiln = Assert.Single(Directory.GetFiles(bin, "Kiln.dll", SearchOption.AllDirectories));
        Assert.Empty(Directory.GetFiles(bin, "Kiln.Datasets.dll", SearchOption.AllDirectories));
        // The MNIST subset alone is 1.6 MB; the core without it is far below.
        Assert.True(new FileInfo(kiln).Length < 512 * 1024, $"Kiln.dll is {new FileInfo(kiln).Length} bytes");
    }

    [Fact]
    public void A_wrong_network_is_a_compile_error_on_its_attribute_line()
    {
        var project = feed.CreateProject("Broken", """
            using Kiln;

            [Network]
            [Input(28, 28, 1)]
            [Conv2D(8, 3)]
            [Dense(10, Activation.Softmax)]
            partial class Broken;
            """, packages: ["Kiln"]);

        var (exit, output) = feed.Dotnet($"build \"{project}\"");

        Assert.NotEqual(0, exit);
        Assert.Contains("Program.cs(6,2): error KLN0005: Layer 'dense' (Dense) needs a vector input but receives shape (26, 26, 8); add [Flatten] before it", output);
        Assert.DoesNotContain("KLN0100", output);
    }

    [Fact]
    public void A_project_reference_to_the_library_fails_with_one_message_saying_what_to_reference()
    {
        var project = feed.CreateProject("ByProjectReference", """
            using Kiln;

            Console.WriteLine(Xor.Summary);

            [Network]
            [Input(2)]
            [Dense(1, Activation.Sigmoid)]
            partial class Xor;
            """, projectReference: Path.Combine(Feed.RepoRoot(), "src", "Dsl", "Dsl.csproj"));

        var (exit, output) = feed.Dotnet($"build \"{project}\" -c Release");

        Assert.NotEqual(0, exit);
        Assert.Contains("Program.cs(5,2): error KLN0100:", output);
        Assert.Contains("A ProjectReference to src/Dsl/Dsl.csproj does not bring it: reference the Kiln package instead", output);
    }

    [Theory]
    [InlineData("linux-x64", "", "x86-64-v3")]
    [InlineData("win-x64", "", "x86-64-v3")]
    [InlineData("linux-x64", "x86-64-v2", "x86-64-v2")]
    [InlineData("linux-arm64", "", "")]
    public void NativeAot_targets_avx2_and_fma_on_x64_unless_the_app_chooses(string rid, string appSets, string expected)
    {
        var project = feed.CreateProject($"Aot-{rid}-{appSets}", "Console.WriteLine();", packages: ["Kiln"],
            properties: appSets.Length == 0 ? "" : $"<IlcInstructionSet>{appSets}</IlcInstructionSet>");
        var (restored, log) = feed.Dotnet($"restore \"{project}\"");
        Assert.True(restored == 0, log);

        var (exit, output) = feed.Dotnet($"msbuild \"{project}\" -getProperty:IlcInstructionSet -p:RuntimeIdentifier={rid} -p:PublishAot=true");

        Assert.True(exit == 0, output);
        Assert.Equal(expected, output.Trim());
    }
}

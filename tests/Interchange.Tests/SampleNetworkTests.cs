using Iris;
using Mnist;
using Xunit.Abstractions;

namespace Kiln.Interchange.Tests;

/// <summary>Every generated sample network, exported and run in ONNX Runtime, against Kiln's own Predict.</summary>
public sealed class SampleNetworkTests(ITestOutputHelper output)
{
    public static TheoryData<string> Networks =>
        ["IrisNet", "MnistCnn", "StridedValidNet", "OddPoolingNet", "EvenKernelNet", "ModernCnn", "LayerZoo", "FlattenHead", "PaddedPoolNet", "Mnist.ModernCnn", "BinaryHead", "MultiLabelLogits", "FoldedNet"];

    /// <summary>Glorot kernels from the seed, random biases and BatchNormalization tensors (zeros and ones would not
    /// show a misplaced one).</summary>
    internal static Network Create(string name, int seed = 11)
    {
        Network network = name switch
        {
            "IrisNet" => new IrisNet(seed, Device.Cpu),
            "MnistCnn" => new MnistCnn(seed, Device.Cpu),
            "StridedValidNet" => new global::Samples.Odd.StridedValidNet(seed, Device.Cpu),
            "OddPoolingNet" => new global::OddPoolingNet(seed, Device.Cpu),
            "EvenKernelNet" => new EvenKernelNet(seed, Device.Cpu),
            "ModernCnn" => new global::Samples.ModernCnn(seed, Device.Cpu),
            "LayerZoo" => new global::Samples.LayerZoo(seed, Device.Cpu),
            "FlattenHead" => new global::Samples.FlattenHead(seed, Device.Cpu),
            "PaddedPoolNet" => new PaddedPoolNet(seed, Device.Cpu),
            "Mnist.ModernCnn" => new global::Mnist.ModernCnn(seed, Device.Cpu),
            "BinaryHead" => new global::Samples.BinaryHead(seed, Device.Cpu),
            "MultiLabelLogits" => new global::Samples.MultiLabelLogits(seed, Device.Cpu),
            "FoldedNet" => new FoldedNet(seed, Device.Cpu),
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };
        var values = network.GetParameters();
        var random = new Random(seed);
        foreach (var p in network.Info.Parameters.Where(p => !p.IsKernel))
        {
            for (var i = 0; i < p.Length; i++)
            {
                var spread = (float)(random.NextDouble() - 0.5) * 0.4f;
                values[p.Offset + i] = p.Init == ParameterInit.Ones ? 1 + spread : spread;
            }
        }
        network.SetParameters(values);
        return network;
    }

    internal static float[] Features(NetworkInfo info, int batch, int seed)
    {
        var random = new Random(seed);
        // Pixels in [0, 1) for images, spread-out values around 0 for vectors.
        return [.. Enumerable.Range(0, batch * info.InputSize).Select(_ => info.InputShape.Count == 3 ? random.NextSingle() : (random.NextSingle() - 0.5f) * 6)];
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void OnnxRuntimeMatchesPredictAtBatches1_7_128(string name)
    {
        using var network = Create(name);
        var model = OnnxExport.ToBytes(network.Info, network.GetParameters());
        var logId = $"{nameof(OnnxRuntimeMatchesPredictAtBatches1_7_128)}({name})";
        var largest = 0.0;
        foreach (var batch in new[] { 1, 7, 128 })
        {
            var features = Features(network.Info, batch, seed: batch);
            var expected = new float[batch * network.Info.OutputSize];
            network.Predict(features, expected);
            var actual = Ort.Run(model, features, batch, network.Info.InputShape, logId);
            largest = Math.Max(largest, Tolerance.AssertClose(expected, actual, $"{name} at batch {batch}"));
        }
        Ort.AssertSilent(logId);
        output.WriteLine($"{name}: largest |ORT − Predict| = {largest:E2} over batches 1, 7, 128; model {model.Length:N0} bytes");
    }

    /// <summary>The float64 oracle of the hand-built layer tests agrees with Kiln on the layers Kiln has.</summary>
    [Theory]
    [MemberData(nameof(Networks))]
    public void Float64ReferenceMatchesPredict(string name)
    {
        using var network = Create(name);
        var features = Features(network.Info, 7, seed: 3);
        var expected = new float[7 * network.Info.OutputSize];
        network.Predict(features, expected);
        var reference = Float64Reference.Predict(network.Info, network.GetParameters(), features);
        Tolerance.AssertClose(reference, expected, name);
    }

    [Fact]
    public void ExportOnnxWritesTheFileThatToBytesReturns()
    {
        using var network = Create("IrisNet");
        var path = Path.Combine(Path.GetTempPath(), $"kiln-onnx-{Guid.NewGuid():N}.onnx");
        try
        {
            network.ExportOnnx(path, ["setosa", "versicolor", "virginica"]);
            Assert.Equal(OnnxExport.ToBytes(network.Info, network.GetParameters(), ["setosa", "versicolor", "virginica"]), File.ReadAllBytes(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void MetadataNamesTheNetworkLayersAndClassesWithASymbolicBatch()
    {
        using var network = Create("MnistCnn");
        string[] classes = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];
        using var session = Ort.Session(OnnxExport.ToBytes(network.Info, network.GetParameters(), classes), nameof(MetadataNamesTheNetworkLayersAndClassesWithASymbolicBatch));
        var metadata = session.ModelMetadata;
        Assert.Equal("Kiln", metadata.ProducerName);
        Assert.Equal("MnistCnn", metadata.GraphName);
        Assert.Equal("MnistCnn", metadata.CustomMetadataMap["kiln.network"]);
        Assert.Equal("NHWC", metadata.CustomMetadataMap["kiln.input_layout"]);
        Assert.Equal("""["conv2d:Conv2D","max_pooling2d:MaxPooling2D","conv2d_1:Conv2D","max_pooling2d_1:MaxPooling2D","flatten:Flatten","dense:Dense","dropout:Dropout","dense_1:Dense"]""",
            metadata.CustomMetadataMap["kiln.layers"]);
        Assert.Equal("""["zero","one","two","three","four","five","six","seven","eight","nine"]""", metadata.CustomMetadataMap["kiln.classes"]);
        Assert.Equal([-1, 28, 28, 1], session.InputMetadata["input"].Dimensions);
        Assert.Equal("batch", session.InputMetadata["input"].SymbolicDimensions[0]);
        Assert.Equal([-1, 10], session.OutputMetadata["output"].Dimensions);
    }

    [Fact]
    public void WrongClassCountOrParameterCountIsRefusedByName()
    {
        using var network = Create("IrisNet");
        var classes = Assert.Throws<ArgumentException>(() => OnnxExport.ToBytes(network.Info, network.GetParameters(), ["a", "b"]));
        Assert.Contains("IrisNet has 3 outputs, but 2 class names were given", classes.Message);
        var parameters = Assert.Throws<ArgumentException>(() => OnnxExport.ToBytes(network.Info, new float[5]));
        Assert.Contains($"IrisNet has {network.Info.ParameterCount} parameters, but 5 were given", parameters.Message);
    }

    [Fact]
    public void AFailedExportLeavesThePreviousFile()
    {
        using var network = Create("IrisNet");
        var path = Path.Combine(Path.GetTempPath(), $"kiln-onnx-{Guid.NewGuid():N}.onnx");
        try
        {
            File.WriteAllText(path, "previous");
            Assert.Throws<ArgumentException>(() => network.ExportOnnx(path, ["only one"]));
            Assert.Equal("previous", File.ReadAllText(path));
            Assert.Single(Directory.GetFiles(Path.GetTempPath(), $"*{Path.GetFileName(path)}*"));
        }
        finally
        {
            File.Delete(path);
        }
    }
}

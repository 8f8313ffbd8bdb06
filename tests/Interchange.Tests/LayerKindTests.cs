using Xunit.Abstractions;

namespace Kiln.Interchange.Tests;

/// <summary>
/// Every layer kind and option the exporter knows, in small hand-built networks, run in ONNX Runtime against the
/// float64 reference at batches 1, 7 and 128.
/// </summary>
public sealed class LayerKindTests(ITestOutputHelper output)
{
    private static Dictionary<string, object> Config(params (string Key, object Value)[] entries) => entries.ToDictionary(e => e.Key, e => e.Value);

    internal static readonly Dictionary<string, Func<NetworkInfo>> Cases = new()
    {
        ["Dense without bias"] = () => new HandBuilt("DenseNoBias", 6).Dense(5, "tanh", bias: false).Build(),
        ["Conv2D without bias, strided same, even kernel"] = () => new HandBuilt("ConvNoBias", 7, 6, 3).Conv2D(4, 4, 2, "same", bias: false).Flatten().Build(),
        ["Conv2D softmax over channels"] = () => new HandBuilt("ConvSoftmax", 5, 5, 2).Conv2D(3, 3, 1, "valid", "softmax").Build(),
        ["MaxPooling2D same, overlapping"] = () => new HandBuilt("MaxPool", 5, 6, 2).Pool("MaxPooling2D", 3, 2, "same").Build(),
        ["AveragePooling2D same, padded borders"] = () => new HandBuilt("AvgPoolSame", 7, 7, 2).Pool("AveragePooling2D", 3, 2, "same").Build(),
        ["AveragePooling2D same, padding at the end only"] = () => new HandBuilt("AvgPoolEnd", 6, 5, 2).Pool("AveragePooling2D", 2, 2, "same").Build(),
        ["AveragePooling2D valid"] = () => new HandBuilt("AvgPoolValid", 7, 7, 2).Pool("AveragePooling2D", 2, 2, "valid").Flatten().Dense(3).Build(),
        ["GlobalAveragePooling2D"] = () => new HandBuilt("Gap", 5, 6, 3).GlobalPool("GlobalAveragePooling2D").Build(),
        ["GlobalMaxPooling2D after Conv2D"] = () => new HandBuilt("Gmp", 6, 6, 2).Conv2D(4, 3, 1, "same", "relu").GlobalPool("GlobalMaxPooling2D").Dense(3, "softmax").Build(),
        ["BatchNormalization on images"] = () => new HandBuilt("BnImage", 5, 4, 3).BatchNormalization().Build(),
        ["BatchNormalization after Conv2D"] = () => new HandBuilt("BnConv", 6, 6, 2).Conv2D(3, 3, 1, "same").BatchNormalization(1e-5).Elementwise("ReLU", []).Flatten().Build(),
        ["BatchNormalization on vectors, no center or scale"] = () => new HandBuilt("BnPlain", 6).BatchNormalization(0.01, center: false, scale: false).Build(),
        ["BatchNormalization on vectors, scale only"] = () => new HandBuilt("BnScale", 6).Dense(4).BatchNormalization(center: false).Build(),
        ["ReLU"] = () => new HandBuilt("Relu", 4, 3, 2).Elementwise("ReLU", []).Build(),
        ["ReLU with negative_slope and max_value"] = () => new HandBuilt("ReluCapped", 8).Elementwise("ReLU", Config(("negative_slope", 0.1), ("max_value", 0.6))).Build(),
        ["LeakyReLU"] = () => new HandBuilt("Leaky", 3, 3, 2).Elementwise("LeakyReLU", Config(("negative_slope", 0.15f))).Build(),
        ["LeakyReLU as Kiln describes it"] = () => new HandBuilt("LeakyKiln", 8).Elementwise("LeakyReLU", Config(("activation", "leaky_relu"), ("alpha", 0.1f))).Build(),
        ["ELU"] = () => new HandBuilt("Elu", 8).Elementwise("ELU", Config(("alpha", 0.7))).Build(),
        ["Rescaling"] = () => new HandBuilt("Rescale", 3, 3, 1).Elementwise("Rescaling", Config(("scale", 1 / 255.0), ("offset", -0.5))).Build(),
        ["Dropout alone"] = () => new HandBuilt("DropoutOnly", 5).Elementwise("Dropout", Config(("rate", 0.3f))).Build(),
        ["Flatten alone"] = () => new HandBuilt("FlattenOnly", 2, 3, 4).Flatten().Build(),
        ["Activation leaky_relu with alpha"] = () => new HandBuilt("ActLeaky", 8).Elementwise("Activation", Config(("activation", "leaky_relu"), ("alpha", 0.1))).Build(),
        ["Activation elu with alpha"] = () => new HandBuilt("ActElu", 8).Elementwise("Activation", Config(("activation", "elu"), ("alpha", 0.5))).Build(),
        ["Activation softmax on an image"] = () => new HandBuilt("ActSoftmax", 3, 2, 4).Elementwise("Activation", Config(("activation", "softmax"))).Build(),
    };

    private static readonly string[] Activations = ["linear", "relu", "sigmoid", "tanh", "softmax", "leaky_relu", "elu", "gelu", "swish", "silu", "softplus"];

    public static TheoryData<string> CaseNames()
    {
        var names = new TheoryData<string>();
        foreach (var name in Cases.Keys)
        {
            names.Add(name);
        }
        foreach (var activation in Activations)
        {
            names.Add($"Dense {activation}");
            names.Add($"Conv2D {activation}");
            names.Add($"Activation {activation}");
        }
        return names;
    }

    internal static NetworkInfo Info(string name)
    {
        if (Cases.TryGetValue(name, out var build))
        {
            return build();
        }
        var activation = name[(name.IndexOf(' ') + 1)..];
        return name.Split(' ')[0] switch
        {
            "Dense" => new HandBuilt("Dense_" + activation, 6).Dense(5, activation).Build(),
            "Conv2D" => new HandBuilt("Conv_" + activation, 5, 4, 2).Conv2D(3, 3, 1, "same", activation).Build(),
            _ => new HandBuilt("Act_" + activation, 9).Elementwise("Activation", Config(("activation", activation))).Build(),
        };
    }

    /// <summary>Random values: kernels and biases in ±0.5 (±1.5 for BatchNormalization's statistics), variances in [0.3, 2).</summary>
    internal static float[] Parameters(NetworkInfo info, int seed)
    {
        var random = new Random(seed);
        var values = new float[info.ParameterCount];
        foreach (var p in info.Parameters)
        {
            for (var i = 0; i < p.Length; i++)
            {
                values[p.Offset + i] = p.Name.EndsWith("moving_variance", StringComparison.Ordinal) ? 0.3f + 1.7f * random.NextSingle()
                    : p.Name.Contains("moving_mean") || p.Name.EndsWith("gamma", StringComparison.Ordinal) ? (random.NextSingle() - 0.5f) * 3
                    : random.NextSingle() - 0.5f;
            }
        }
        return values;
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void OnnxRuntimeMatchesTheFloat64Reference(string name)
    {
        var info = Info(name);
        var parameters = Parameters(info, seed: 5);
        var model = OnnxExport.ToBytes(info, parameters);
        var logId = $"{nameof(OnnxRuntimeMatchesTheFloat64Reference)}({name})";
        var largest = 0.0;
        foreach (var batch in new[] { 1, 7, 128 })
        {
            var random = new Random(batch);
            // Spread over ±3 so every activation's both sides (and softplus' tails) are reached.
            var features = Enumerable.Range(0, batch * info.InputSize).Select(_ => (random.NextSingle() - 0.5f) * 6).ToArray();
            var expected = Float64Reference.Predict(info, parameters, features);
            var actual = Ort.Run(model, features, batch, info.InputShape, logId);
            largest = Math.Max(largest, Tolerance.AssertClose(expected, actual, $"{name} at batch {batch}"));
        }
        Ort.AssertSilent(logId);
        output.WriteLine($"{name}: largest |ORT − float64| = {largest:E2}");
    }

    [Fact]
    public void UnknownLayerTypesAreListedWithTheSupportedOnes()
    {
        var info = new NetworkInfo("Lstm", [4], 4, Loss.MeanSquaredError, "", [],
            [new LayerInfo("lstm", "LSTM", [4], [4], new Dictionary<string, object>()), new LayerInfo("gru", "GRU", [4], [4], new Dictionary<string, object>())]);
        var e = Assert.Throws<NotSupportedException>(() => OnnxExport.ToBytes(info, []));
        Assert.Contains("no ONNX export for layer 'lstm' (LSTM), 'gru' (GRU)", e.Message);
        Assert.Contains("BatchNormalization", e.Message);
    }

    [Fact]
    public void AMissingOrMisshapenTensorIsNamed()
    {
        var info = new NetworkInfo("Broken", [3], 2, Loss.MeanSquaredError, "", [new ParameterInfo("dense.kernel", [2, 3], 0)],
            [new LayerInfo("dense", "Dense", [3], [2], new Dictionary<string, object> { ["units"] = 2, ["use_bias"] = false })]);
        var e = Assert.Throws<InvalidOperationException>(() => OnnxExport.ToBytes(info, new float[6]));
        Assert.Contains("tensor 'dense.kernel' has shape (2, 3), but layer 'dense' (Dense) implies (3, 2)", e.Message);
        var noBias = new NetworkInfo("NoBias", [3], 2, Loss.MeanSquaredError, "", [new ParameterInfo("dense.kernel", [3, 2], 0)],
            [new LayerInfo("dense", "Dense", [3], [2], new Dictionary<string, object> { ["units"] = 2 })]);
        var missing = Assert.Throws<InvalidOperationException>(() => OnnxExport.ToBytes(noBias, new float[6]));
        Assert.Contains("layer 'dense' (Dense) needs tensor 'dense.bias' (2)", missing.Message);
    }

    [Fact]
    public void UnknownActivationsAndReluThresholdsAreRefused()
    {
        var swishish = new HandBuilt("Mish", 4).Elementwise("Activation", Config(("activation", "mish"))).Build();
        Assert.Contains("activation 'mish' is not exported", Assert.Throws<NotSupportedException>(() => OnnxExport.ToBytes(swishish, [])).Message);
        var threshold = new HandBuilt("Threshold", 4).Elementwise("ReLU", Config(("threshold", 0.5))).Build();
        Assert.Contains("a nonzero threshold is not exported", Assert.Throws<NotSupportedException>(() => OnnxExport.ToBytes(threshold, [])).Message);
    }
}

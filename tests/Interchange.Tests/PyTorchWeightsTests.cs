using Samples.Odd;
namespace Kiln.Interchange.Tests;

/// <summary>
/// <see cref="Network.LoadPyTorch"/> against tensors laid out the PyTorch way by this test's own loops
/// (OIHW, (out, in), channels-first flatten), and its report of every tensor that does not fit.
/// </summary>
public sealed class PyTorchWeightsTests
{
    /// <summary>Kiln's tensors rewritten as PyTorch would hold them, named by module.</summary>
    private static List<NamedTensor> AsPyTorch(NetworkInfo info, float[] values, IReadOnlyDictionary<string, string> modules)
    {
        var tensors = new List<NamedTensor>();
        int[]? flattened = null;
        foreach (var layer in info.Layers)
        {
            var module = modules.GetValueOrDefault(layer.Name, layer.Name);
            float[] Of(string suffix)
            {
                var p = info.Parameters.Single(p => p.Name == $"{layer.Name}.{suffix}");
                return values.AsSpan(p.Offset, p.Length).ToArray();
            }
            switch (layer.Type)
            {
                case "Flatten":
                    flattened = [.. layer.InputShape];
                    break;
                case "Conv2D":
                {
                    var kernel = info.Parameters.Single(p => p.Name == $"{layer.Name}.kernel").Shape;
                    int kh = kernel[0], kw = kernel[1], c = kernel[2], f = kernel[3];
                    var hwio = Of("kernel");
                    var oihw = new float[hwio.Length];
                    for (var o = 0; o < f; o++)
                    for (var i = 0; i < c; i++)
                    for (var y = 0; y < kh; y++)
                    for (var x = 0; x < kw; x++)
                    {
                        oihw[((o * c + i) * kh + y) * kw + x] = hwio[((y * kw + x) * c + i) * f + o];
                    }
                    tensors.Add(new($"{module}.weight", [f, c, kh, kw], oihw));
                    tensors.Add(new($"{module}.bias", [f], Of("bias")));
                    break;
                }
                case "Dense":
                {
                    int inputs = layer.InputShape[0], units = layer.OutputShape[0];
                    var kernel = Of("kernel");
                    var weight = new float[kernel.Length];
                    for (var j = 0; j < units; j++)
                    {
                        for (var t = 0; t < inputs; t++)
                        {
                            // PyTorch's input feature t is (channel, y, x) of the flattened map; Kiln's row is (y, x, channel).
                            var row = t;
                            if (flattened is [var h, var w, var c])
                            {
                                int channel = t / (h * w), y = t / w % h, x = t % w;
                                row = (y * w + x) * c + channel;
                            }
                            weight[j * inputs + t] = kernel[row * units + j];
                        }
                    }
                    tensors.Add(new($"{module}.weight", [units, inputs], weight));
                    tensors.Add(new($"{module}.bias", [units], Of("bias")));
                    flattened = null;
                    break;
                }
            }
        }
        return tensors;
    }

    [Fact]
    public void PyTorchLayoutsLoadBackToKilnsTensors()
    {
        using var source = SampleNetworkTests.Create("StridedValidNet", seed: 4);
        using var target = new StridedValidNet(seed: 99, Device.Cpu);
        var modules = new Dictionary<string, string> { ["conv2d"] = "features.0", ["head"] = "classifier" };
        using var directory = new TemporaryDirectory();
        var path = directory.File("state_dict.safetensors");
        SafeTensors.Save(path, AsPyTorch(source.Info, source.GetParameters(), modules), new Dictionary<string, string>());
        target.LoadPyTorch(path, modules);
        Assert.Equal(source.GetParameters(), target.GetParameters());
    }

    [Fact]
    public void EveryTensorThatDoesNotFitIsListed()
    {
        using var network = new StridedValidNet(seed: 1, Device.Cpu);
        using var directory = new TemporaryDirectory();
        var path = directory.File("wrong.safetensors");
        SafeTensors.Save(path,
        [
            new("conv2d.weight", [4, 3, 3, 3], new float[108]),
            new("conv2d.bias", [5], new float[5]),
            new("head.weight", [80, 5], new float[400]),
            new("fc.bias", [5], new float[5]),
        ], new Dictionary<string, string>());
        var before = network.GetParameters();
        var e = Assert.Throws<InvalidDataException>(() => network.LoadPyTorch(path, new Dictionary<string, string> { ["dense"] = "fc" }));
        Assert.Equal(
            $"'{path}' does not fit StridedValidNet as a PyTorch state_dict:" + Environment.NewLine +
            "  module map names 'dense', which is not a layer of StridedValidNet" + Environment.NewLine +
            "  'conv2d.bias' has shape (5), expected (4) for 'conv2d.bias'" + Environment.NewLine +
            "  'head.weight' has shape (80, 5), expected (5, 80) for 'head.kernel'" + Environment.NewLine +
            "  missing tensor 'head.bias' (5) for 'head.bias'" + Environment.NewLine +
            "  unexpected tensor 'fc.bias' (5)",
            e.Message);
        Assert.Equal(before, network.GetParameters());
    }

    /// <summary>BatchNorm1d after a Flatten holds its statistics in PyTorch's channels-first feature order; its I64 step counter is skipped.</summary>
    [Fact]
    public void BatchNormalizationAfterFlattenIsReordered()
    {
        var info = new HandBuilt("BnFlat", 2, 3, 2).Flatten().BatchNormalization().Dense(2).Build();
        var names = new[] { ("gamma", "weight"), ("beta", "bias"), ("moving_mean", "running_mean"), ("moving_variance", "running_var") };
        // PyTorch feature t = (channel, y, x) holds 100·(t + 1) plus a per-tensor offset.
        var tensors = names.Select((n, k) => new NamedTensor($"batch_normalization.{n.Item2}", [12], [.. Enumerable.Range(0, 12).Select(t => 100f * (t + 1) + k)])).ToList();
        tensors.Add(new("dense.weight", [2, 12], new float[24]));
        tensors.Add(new("dense.bias", [2], [1, 2]));
        using var directory = new TemporaryDirectory();
        var path = directory.File("bn.safetensors");
        WriteWithStepCounter(path, tensors, "batch_normalization.num_batches_tracked");
        var values = PyTorchWeights.Read(path, info);
        var gamma = info.Parameters.Single(p => p.Name == "batch_normalization.gamma");
        // Kiln feature i = (y·3 + x)·2 + channel; i = 1 is (0, 0, channel 1), PyTorch's t = 6; i = 2 is (0, 1, 0), t = 1.
        Assert.Equal([100f, 700f, 200f, 800f], values.AsSpan(gamma.Offset, 4).ToArray());
        var variance = info.Parameters.Single(p => p.Name == "batch_normalization.moving_variance");
        Assert.Equal(703f, values[variance.Offset + 1]);
    }

    /// <summary>A safetensors file as PyTorch writes a BatchNorm's state: F32 tensors plus an I64 scalar step counter.</summary>
    private static void WriteWithStepCounter(string path, List<NamedTensor> tensors, string counter)
    {
        var header = new System.Text.StringBuilder("{");
        var offset = 0;
        foreach (var t in tensors)
        {
            header.Append($"\"{t.Name}\":{{\"dtype\":\"F32\",\"shape\":[{string.Join(",", t.Shape)}],\"data_offsets\":[{offset},{offset + 4 * t.Data.Length}]}},");
            offset += 4 * t.Data.Length;
        }
        header.Append($"\"{counter}\":{{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[{offset},{offset + 8}]}}}}");
        var json = System.Text.Encoding.UTF8.GetBytes(header.ToString());
        using var file = File.Create(path);
        file.Write(BitConverter.GetBytes((ulong)json.Length));
        file.Write(json);
        foreach (var t in tensors)
        {
            file.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(t.Data.AsSpan()));
        }
        file.Write(BitConverter.GetBytes(17L));
    }
}

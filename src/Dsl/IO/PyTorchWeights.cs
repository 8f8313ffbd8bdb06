namespace Kiln.IO;

/// <summary>
/// Reads a PyTorch <c>state_dict</c> saved as safetensors into Kiln's parameter layout (see docs/FORMATS.md): a layer's
/// module is the layer's name unless mapped, <c>nn.Conv2d.weight</c> (OIHW) becomes the HWIO kernel,
/// <c>nn.Linear.weight</c> (out, in) the (in, out) kernel with the rows after a Flatten reordered from PyTorch's
/// channels-first to Kiln's channels-last order, and <c>nn.BatchNorm</c>'s weight, bias, running_mean and running_var
/// become gamma, beta, moving_mean and moving_variance. Stateless: safe to call from any thread.
/// </summary>
public static class PyTorchWeights
{
    private sealed record Expected(ParameterInfo Parameter, string TorchName, int[] TorchShape, Func<int, int> Source);

    /// <summary>
    /// The flat parameter buffer for <paramref name="info"/> from the safetensors file at <paramref name="path"/>.
    /// Every tensor whose name, dtype or shape does not fit, and every tensor left over, is reported in one
    /// <see cref="InvalidDataException"/>.
    /// </summary>
    /// <param name="moduleNames">PyTorch module paths by Kiln layer name (<c>conv2d → features.0</c>) for modules
    /// named otherwise than the layers.</param>
    public static float[] Read(string path, NetworkInfo info, IReadOnlyDictionary<string, string>? moduleNames = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(info);
        // BatchNorm's step counter is I64 and means nothing to Kiln.
        var file = SafeTensors.Load(path, name => !name.EndsWith(".num_batches_tracked", StringComparison.Ordinal));
        return Convert(info, file.Tensors, moduleNames, path);
    }

    internal static float[] Convert(NetworkInfo info, IReadOnlyDictionary<string, NamedTensor> tensors, IReadOnlyDictionary<string, string>? moduleNames, string path)
    {
        if (info.Layers.Count == 0)
        {
            throw new ArgumentException($"{info.Name}'s NetworkInfo lists no layers, so PyTorch modules cannot be matched to them.", nameof(info));
        }
        var problems = new List<string>();
        foreach (var name in (moduleNames?.Keys ?? []).Where(n => info.Layers.All(l => l.Name != n)).Order(StringComparer.Ordinal))
        {
            problems.Add($"module map names '{name}', which is not a layer of {info.Name}");
        }
        var expected = Plan(info, moduleNames, problems);
        var values = new float[info.ParameterCount];
        foreach (var e in expected)
        {
            var what = $"for '{e.Parameter.Name}'";
            if (!tensors.TryGetValue(e.TorchName, out var tensor))
            {
                problems.Add($"missing tensor '{e.TorchName}' {Network.Shape(e.TorchShape)} {what}");
            }
            else if (tensor.DType != "F32")
            {
                problems.Add($"'{e.TorchName}' is {tensor.DType}, expected F32 {what}");
            }
            else if (!tensor.Shape.SequenceEqual(e.TorchShape))
            {
                problems.Add($"'{e.TorchName}' has shape {Network.Shape(tensor.Shape)}, expected {Network.Shape(e.TorchShape)} {what}");
            }
            else
            {
                var target = values.AsSpan(e.Parameter.Offset, e.Parameter.Length);
                for (var i = 0; i < target.Length; i++)
                {
                    target[i] = tensor.Data[e.Source(i)];
                }
            }
        }
        foreach (var name in tensors.Keys.Where(n => expected.All(e => e.TorchName != n)).Order(StringComparer.Ordinal))
        {
            problems.Add($"unexpected tensor '{name}' {Network.Shape(tensors[name].Shape)}");
        }
        if (problems.Count > 0)
        {
            throw new InvalidDataException($"'{path}' does not fit {info.Name} as a PyTorch state_dict:" + Environment.NewLine + "  " + string.Join(Environment.NewLine + "  ", problems));
        }
        return values;
    }

    /// <summary>For each Kiln tensor: the PyTorch name and shape, and which PyTorch element each Kiln element takes.</summary>
    private static List<Expected> Plan(NetworkInfo info, IReadOnlyDictionary<string, string>? moduleNames, List<string> problems)
    {
        var plan = new List<Expected>();
        // After a Flatten of an (h, w, c) map, Kiln's feature (y·w + x)·c + ch is PyTorch's (ch·h + y)·w + x, up to the next Dense.
        Func<int, int> features = i => i;
        foreach (var layer in info.Layers)
        {
            var module = moduleNames?.GetValueOrDefault(layer.Name) ?? layer.Name;
            var owned = info.Parameters.Where(p => p.Name.StartsWith(layer.Name + ".", StringComparison.Ordinal)).ToList();
            ParameterInfo? Tensor(string suffix) => owned.FirstOrDefault(p => p.Name == $"{layer.Name}.{suffix}");
            var identity = (Func<int, int>)(i => i);
            switch (layer.Type)
            {
                case "Flatten" when layer.InputShape.Count == 3:
                {
                    int h = layer.InputShape[0], w = layer.InputShape[1], c = layer.InputShape[2];
                    features = i => (i % c * h + i / c / w) * w + i / c % w;
                    break;
                }
                case "Dense":
                {
                    if (Tensor("kernel") is { } kernel)
                    {
                        int inputs = kernel.Shape[0], units = kernel.Shape[1];
                        var row = features;
                        plan.Add(new(kernel, $"{module}.weight", [units, inputs], i => i % units * inputs + row(i / units)));
                    }
                    if (Tensor("bias") is { } bias)
                    {
                        plan.Add(new(bias, $"{module}.bias", [bias.Length], identity));
                    }
                    features = identity;
                    break;
                }
                case "Conv2D":
                {
                    if (Tensor("kernel") is { } kernel)
                    {
                        int kh = kernel.Shape[0], kw = kernel.Shape[1], c = kernel.Shape[2], f = kernel.Shape[3];
                        // Kiln (y, x, ch, o) ← PyTorch (o, ch, y, x).
                        plan.Add(new(kernel, $"{module}.weight", [f, c, kh, kw], i => ((i % f * c + i / f % c) * kh + i / f / c / kw) * kw + i / f / c % kw));
                    }
                    if (Tensor("bias") is { } bias)
                    {
                        plan.Add(new(bias, $"{module}.bias", [bias.Length], identity));
                    }
                    break;
                }
                case "BatchNormalization":
                {
                    var order = layer.InputShape.Count == 1 ? features : identity;
                    foreach (var (suffix, torch) in new[] { ("gamma", "weight"), ("beta", "bias"), ("moving_mean", "running_mean"), ("moving_variance", "running_var") })
                    {
                        if (Tensor(suffix) is { } p)
                        {
                            plan.Add(new(p, $"{module}.{torch}", [p.Length], order));
                        }
                    }
                    break;
                }
                default:
                    if (owned.Count > 0)
                    {
                        problems.Add($"layer '{layer.Name}' ({layer.Type}) has tensors but no PyTorch mapping");
                    }
                    break;
            }
        }
        return plan;
    }
}

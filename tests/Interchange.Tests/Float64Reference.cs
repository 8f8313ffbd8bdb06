using Kiln.Oracles;

namespace Kiln.Interchange.Tests;

/// <summary>
/// A plain float64 forward pass over a <see cref="NetworkInfo"/>'s layer list, one example at a time, channels last,
/// written from Keras' definitions (not from the exporter): the oracle for layer kinds the generator does not have yet.
/// Checked against Kiln's own Predict on the sample networks. Stateless.
/// </summary>
internal static class Float64Reference
{
    public static double[] Predict(NetworkInfo info, float[] parameters, float[] features)
    {
        var count = features.Length / info.InputSize;
        var outputs = new List<double>();
        for (var n = 0; n < count; n++)
        {
            var x = features.AsSpan(n * info.InputSize, info.InputSize).ToArray().Select(v => (double)v).ToArray();
            foreach (var layer in info.Layers)
            {
                x = Forward(layer, x, name => Tensor(info, parameters, $"{layer.Name}.{name}"));
            }
            outputs.AddRange(x);
        }
        return [.. outputs];
    }

    private static double[]? Tensor(NetworkInfo info, float[] parameters, string name) =>
        info.Parameters.FirstOrDefault(p => p.Name == name) is { } p
            ? parameters.AsSpan(p.Offset, p.Length).ToArray().Select(v => (double)v).ToArray()
            : null;

    private static double[] Forward(LayerInfo l, double[] x, Func<string, double[]?> tensor)
    {
        var output = l.OutputShape.Aggregate(1, (a, b) => a * b);
        switch (l.Type)
        {
            case "Dense":
            {
                int inputs = l.InputShape[0], units = l.OutputShape[0];
                var w = tensor("kernel")!;
                var b = l.Get("use_bias", true) ? tensor("bias")! : new double[units];
                var y = new double[units];
                for (var j = 0; j < units; j++)
                {
                    var sum = b[j];
                    for (var i = 0; i < inputs; i++)
                    {
                        sum += x[i] * w[i * units + j];
                    }
                    y[j] = sum;
                }
                return Activate(y, l.Get("activation", "linear"), null, units);
            }
            case "Conv2D":
            {
                int h = l.InputShape[0], w = l.InputShape[1], c = l.InputShape[2], oh = l.OutputShape[0], ow = l.OutputShape[1], f = l.OutputShape[2];
                int k = l.Get("kernel_size", 1), s = l.Get("strides", 1), top = l.Get("pad_top", 0), left = l.Get("pad_left", 0);
                var kernel = tensor("kernel")!;
                var b = l.Get("use_bias", true) ? tensor("bias")! : new double[f];
                var y = new double[output];
                for (var oy = 0; oy < oh; oy++)
                for (var ox = 0; ox < ow; ox++)
                for (var o = 0; o < f; o++)
                {
                    var sum = b[o];
                    for (var dy = 0; dy < k; dy++)
                    for (var dx = 0; dx < k; dx++)
                    {
                        int iy = oy * s + dy - top, ix = ox * s + dx - left;
                        if (iy < 0 || iy >= h || ix < 0 || ix >= w)
                        {
                            continue;
                        }
                        for (var i = 0; i < c; i++)
                        {
                            sum += x[(iy * w + ix) * c + i] * kernel[((dy * k + dx) * c + i) * f + o];
                        }
                    }
                    y[(oy * ow + ox) * f + o] = sum;
                }
                return Activate(y, l.Get("activation", "linear"), null, f);
            }
            case "MaxPooling2D":
            case "AveragePooling2D":
            {
                int h = l.InputShape[0], w = l.InputShape[1], c = l.InputShape[2], oh = l.OutputShape[0], ow = l.OutputShape[1];
                int k = l.Get("pool_size", 2), s = l.Get("strides", k), top = l.Get("pad_top", 0), left = l.Get("pad_left", 0);
                var max = l.Type == "MaxPooling2D";
                var y = new double[output];
                for (var oy = 0; oy < oh; oy++)
                for (var ox = 0; ox < ow; ox++)
                for (var i = 0; i < c; i++)
                {
                    double best = double.NegativeInfinity, sum = 0;
                    var cells = 0;
                    for (var dy = 0; dy < k; dy++)
                    for (var dx = 0; dx < k; dx++)
                    {
                        int iy = oy * s + dy - top, ix = ox * s + dx - left;
                        if (iy >= 0 && iy < h && ix >= 0 && ix < w)
                        {
                            var v = x[(iy * w + ix) * c + i];
                            best = Math.Max(best, v);
                            sum += v;
                            cells++;
                        }
                    }
                    // Keras' same average divides by the cells inside the input.
                    y[(oy * ow + ox) * c + i] = max ? best : sum / cells;
                }
                return y;
            }
            case "GlobalAveragePooling2D":
            case "GlobalMaxPooling2D":
            {
                var c = l.InputShape[2];
                var pixels = x.Length / c;
                var y = new double[c];
                for (var i = 0; i < c; i++)
                {
                    var values = Enumerable.Range(0, pixels).Select(p => x[p * c + i]);
                    y[i] = l.Type == "GlobalMaxPooling2D" ? values.Max() : values.Average();
                }
                return y;
            }
            case "Flatten":
            case "Dropout":
                return x;
            case "BatchNormalization":
            {
                var c = l.InputShape[^1];
                var gamma = l.Get("scale", true) ? tensor("gamma")! : Enumerable.Repeat(1.0, c).ToArray();
                var beta = l.Get("center", true) ? tensor("beta")! : new double[c];
                var mean = tensor("moving_mean")!;
                var variance = tensor("moving_variance")!;
                var epsilon = Convert.ToDouble(l.Config.GetValueOrDefault("epsilon", 1e-3));
                return [.. x.Select((v, i) => gamma[i % c] * (v - mean[i % c]) / Math.Sqrt(variance[i % c] + epsilon) + beta[i % c])];
            }
            case "Activation":
                return Activate(x, l.Get("activation", "linear"), l.Config.TryGetValue("alpha", out var alpha) ? Convert.ToDouble(alpha) : null, l.InputShape[^1]);
            case "ReLU":
            {
                var slope = Convert.ToDouble(l.Config.GetValueOrDefault("negative_slope", 0.0));
                var max = l.Config.TryGetValue("max_value", out var m) ? Convert.ToDouble(m) : double.PositiveInfinity;
                return [.. x.Select(v => Math.Min(v >= 0 ? v : slope * v, max))];
            }
            case "LeakyReLU":
                return Activate(x, "leaky_relu", Convert.ToDouble(l.Config.GetValueOrDefault("alpha", l.Config.GetValueOrDefault("negative_slope", 0.3))), 1);
            case "ELU":
                return Activate(x, "elu", Convert.ToDouble(l.Config.GetValueOrDefault("alpha", 1.0)), 1);
            case "Rescaling":
            {
                var scale = Convert.ToDouble(l.Config.GetValueOrDefault("scale", 1.0));
                var offset = Convert.ToDouble(l.Config.GetValueOrDefault("offset", 0.0));
                return [.. x.Select(v => v * scale + offset)];
            }
            default:
                throw new NotSupportedException(l.Type);
        }
    }

    /// <summary>Keras' activations; softmax runs over the last axis (groups of <paramref name="channels"/>).</summary>
    private static double[] Activate(double[] x, string activation, double? alpha, int channels)
    {
        if (activation == "softmax")
        {
            var y = new double[x.Length];
            for (var start = 0; start < x.Length; start += channels)
            {
                var group = x.AsSpan(start, channels);
                var max = double.NegativeInfinity;
                foreach (var v in group)
                {
                    max = Math.Max(max, v);
                }
                var sum = 0.0;
                for (var i = 0; i < channels; i++)
                {
                    y[start + i] = Math.Exp(group[i] - max);
                    sum += y[start + i];
                }
                for (var i = 0; i < channels; i++)
                {
                    y[start + i] /= sum;
                }
            }
            return y;
        }
        Func<double, double> f = activation switch
        {
            "linear" => v => v,
            "relu" => v => Math.Max(v, 0),
            "sigmoid" => v => 1 / (1 + Math.Exp(-v)),
            "tanh" => Math.Tanh,
            "leaky_relu" => v => v > 0 ? v : (alpha ?? 0.2) * v,
            "elu" => v => v > 0 ? v : (alpha ?? 1.0) * (Math.Exp(v) - 1),
            "gelu" => v => 0.5 * v * (1 + ErfReference.Erf(v / Math.Sqrt(2))),
            "swish" or "silu" => v => v / (1 + Math.Exp(-v)),
            "softplus" => v => Math.Max(v, 0) + Math.Log(1 + Math.Exp(-Math.Abs(v))),
            _ => throw new NotSupportedException(activation),
        };
        return [.. x.Select(f)];
    }
}

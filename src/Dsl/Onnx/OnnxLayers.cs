using Onnx;
using static Kiln.Onnx.LayerConfig;
using static Kiln.Onnx.OnnxGraphBuilder;

namespace Kiln.Onnx;

/// <summary>
/// One exporter per Keras layer type: each appends the layer's ONNX nodes (opset 17, default domain) to the builder.
/// A new layer kind is one entry here. Read-only after start-up: safe from any thread.
/// </summary>
internal static class OnnxLayers
{
    public static readonly IReadOnlyDictionary<string, Action<OnnxGraphBuilder, LayerInfo>> Exporters =
        new Dictionary<string, Action<OnnxGraphBuilder, LayerInfo>>(StringComparer.Ordinal)
        {
            ["Dense"] = Dense,
            ["Conv2D"] = Conv2D,
            ["MaxPooling2D"] = (g, l) => Pool(g, l, "MaxPool"),
            ["AveragePooling2D"] = (g, l) => Pool(g, l, "AveragePool", Int("count_include_pad", 0)),
            ["GlobalAveragePooling2D"] = (g, l) => GlobalPool(g, l, "GlobalAveragePool"),
            ["GlobalMaxPooling2D"] = (g, l) => GlobalPool(g, l, "GlobalMaxPool"),
            ["Flatten"] = Flatten,
            // Dropout is the identity outside training.
            ["Dropout"] = (_, _) => { },
            ["BatchNormalization"] = BatchNormalization,
            ["Activation"] = (g, l) => Activation(g, l, Text(l, "activation", "linear"), OptionalNumber(l, "alpha")),
            ["ReLU"] = ReLU,
            // Kiln writes the slope as alpha (its activation layers share one config); Keras calls it negative_slope.
            ["LeakyReLU"] = (g, l) => g.Node(l, "LeakyRelu", Float("alpha", OptionalNumber(l, "alpha") ?? Number(l, "negative_slope", 0.3))),
            ["ELU"] = (g, l) => g.Node(l, "Elu", Float("alpha", Number(l, "alpha", 1.0))),
            ["Rescaling"] = Rescaling,
        };

    /// <summary><c>y = x·W + b</c> as Gemm, whose B operand is Keras' (in, out) kernel as it is.</summary>
    private static void Dense(OnnxGraphBuilder g, LayerInfo l)
    {
        if (g.Layout != OnnxLayout.Vector)
        {
            throw new NotSupportedException($"Layer '{l.Name}' (Dense) reads a {Network.Shape(l.InputShape)} tensor; only vectors are exported.");
        }
        int inputs = l.InputShape[0], units = l.OutputShape[0];
        List<string> operands = [g.Current, g.Initializer($"{l.Name}.kernel", [inputs, units], g.Parameter(l, "kernel", inputs, units))];
        if (Flag(l, "use_bias", true))
        {
            operands.Add(g.Initializer($"{l.Name}.bias", [units], g.Parameter(l, "bias", units)));
        }
        g.Node(l, "Gemm", operands);
        Activation(g, l, Text(l, "activation", "linear"), null);
    }

    /// <summary>Conv on NCHW with the kernel permuted from Keras' HWIO to ONNX's OIHW and Kiln's padding spelled out.</summary>
    private static void Conv2D(OnnxGraphBuilder g, LayerInfo l)
    {
        var (kh, kw) = Pair(l, "kernel_size", (1, 1));
        int channels = l.InputShape[2], filters = l.OutputShape[2];
        var hwio = g.Parameter(l, "kernel", kh, kw, channels, filters);
        var oihw = new float[hwio.Length];
        for (var y = 0; y < kh; y++)
        {
            for (var x = 0; x < kw; x++)
            {
                for (var c = 0; c < channels; c++)
                {
                    for (var f = 0; f < filters; f++)
                    {
                        oihw[((f * channels + c) * kh + y) * kw + x] = hwio[((y * kw + x) * channels + c) * filters + f];
                    }
                }
            }
        }
        g.ToChannelsFirst(l);
        List<string> operands = [g.Current, g.Initializer($"{l.Name}.kernel", [filters, channels, kh, kw], oihw, "OIHW: Kiln's HWIO kernel transposed")];
        if (Flag(l, "use_bias", true))
        {
            operands.Add(g.Initializer($"{l.Name}.bias", [filters], g.Parameter(l, "bias", filters)));
        }
        g.Node(l, "Conv", operands, Window(l, (kh, kw), (1, 1)));
        Activation(g, l, Text(l, "activation", "linear"), null);
    }

    private static void Pool(OnnxGraphBuilder g, LayerInfo l, string op, params AttributeProto[] extra)
    {
        var size = Pair(l, "pool_size", (2, 2));
        g.ToChannelsFirst(l);
        g.Node(l, op, [.. Window(l, size, size), .. extra]);
    }

    /// <summary>Keras' global pools drop the spatial axes unless <c>keepdims</c>; ONNX's keep them as 1 × 1.</summary>
    private static void GlobalPool(OnnxGraphBuilder g, LayerInfo l, string op)
    {
        g.ToChannelsFirst(l);
        g.Node(l, op);
        if (l.OutputShape.Count == 1)
        {
            g.Node(l, "Flatten", Int("axis", 1));
            g.BecomeVector();
        }
    }

    /// <summary>Kiln flattens channels last, so an image goes back to NHWC before ONNX's Flatten.</summary>
    private static void Flatten(OnnxGraphBuilder g, LayerInfo l)
    {
        if (g.Layout != OnnxLayout.Vector)
        {
            g.ToChannelsLast(l);
            g.Node(l, "Flatten", Int("axis", 1));
            g.BecomeVector();
        }
    }

    /// <summary>Inference form with the moving statistics; a missing gamma or beta (scale or center off) is 1 or 0.</summary>
    private static void BatchNormalization(OnnxGraphBuilder g, LayerInfo l)
    {
        var channels = l.InputShape[^1];
        if (l.InputShape.Count == 3)
        {
            g.ToChannelsFirst(l);
        }
        var gamma = Flag(l, "scale", true) ? g.Parameter(l, "gamma", channels) : Enumerable.Repeat(1f, channels).ToArray();
        var beta = Flag(l, "center", true) ? g.Parameter(l, "beta", channels) : new float[channels];
        g.Node(l, "BatchNormalization",
            [
                g.Current,
                g.Initializer($"{l.Name}.gamma", [channels], gamma),
                g.Initializer($"{l.Name}.beta", [channels], beta),
                g.Initializer($"{l.Name}.moving_mean", [channels], g.Parameter(l, "moving_mean", channels)),
                g.Initializer($"{l.Name}.moving_variance", [channels], g.Parameter(l, "moving_variance", channels)),
            ],
            Float("epsilon", Number(l, "epsilon", 1e-3)));
    }

    /// <summary>Keras' ReLU layer: <c>negative_slope</c> and <c>max_value</c> are exported; a nonzero threshold is not.</summary>
    private static void ReLU(OnnxGraphBuilder g, LayerInfo l)
    {
        if (Number(l, "threshold", 0) != 0)
        {
            throw new NotSupportedException($"Layer '{l.Name}' (ReLU): a nonzero threshold is not exported.");
        }
        var slope = Number(l, "negative_slope", 0);
        if (slope == 0)
        {
            g.Node(l, "Relu");
        }
        else
        {
            g.Node(l, "LeakyRelu", Float("alpha", slope));
        }
        if (OptionalNumber(l, "max_value") is { } max)
        {
            g.Node(l, "Clip", [g.Current, "", g.Scalar(l, "max_value", (float)max)]);
        }
    }

    /// <summary><c>x·scale + offset</c> with scalar scale and offset.</summary>
    private static void Rescaling(OnnxGraphBuilder g, LayerInfo l)
    {
        var scale = Number(l, "scale", 1);
        var offset = Number(l, "offset", 0);
        if (scale != 1)
        {
            g.Node(l, "Mul", [g.Current, g.Scalar(l, "scale", (float)scale)]);
        }
        if (offset != 0)
        {
            g.Node(l, "Add", [g.Current, g.Scalar(l, "offset", (float)offset)]);
        }
    }

    /// <summary>
    /// Keras' activations by name. Opset 17 has no Gelu (opset 20), so exact GELU is <c>x·½·(1 + erf(x/√2))</c>;
    /// swish (Keras 3: silu) is <c>x·sigmoid(x)</c>. <paramref name="alpha"/> overrides leaky_relu's slope (0.2) and elu's alpha (1).
    /// </summary>
    internal static void Activation(OnnxGraphBuilder g, LayerInfo l, string activation, double? alpha)
    {
        var x = g.Current;
        switch (activation)
        {
            case "linear":
                break;
            case "relu":
                g.Node(l, "Relu");
                break;
            case "sigmoid":
                g.Node(l, "Sigmoid");
                break;
            case "tanh":
                g.Node(l, "Tanh");
                break;
            case "softmax":
                g.Node(l, "Softmax", Int("axis", g.ChannelAxis));
                break;
            case "leaky_relu":
                g.Node(l, "LeakyRelu", Float("alpha", alpha ?? 0.2));
                break;
            case "elu":
                g.Node(l, "Elu", Float("alpha", alpha ?? 1.0));
                break;
            case "softplus":
                g.Node(l, "Softplus");
                break;
            case "swish" or "silu":
                g.Node(l, "Sigmoid");
                g.Node(l, "Mul", [x, g.Current]);
                break;
            case "gelu":
                g.Node(l, "Mul", [x, g.Scalar(l, "rsqrt2", (float)(1 / Math.Sqrt(2)))]);
                g.Node(l, "Erf");
                g.Node(l, "Add", [g.Current, g.Scalar(l, "one", 1f)]);
                g.Node(l, "Mul", [x, g.Current]);
                g.Node(l, "Mul", [g.Current, g.Scalar(l, "half", 0.5f)]);
                break;
            default:
                throw new NotSupportedException($"Layer '{l.Name}' ({l.Type}): activation '{activation}' is not exported.");
        }
    }

    /// <summary>kernel_shape, strides and pads (top, left, bottom, right): Kiln's start padding, the rest at the end.</summary>
    private static AttributeProto[] Window(LayerInfo l, (int, int) size, (int, int) strideFallback)
    {
        var (kh, kw) = size;
        var (sh, sw) = Pair(l, "strides", strideFallback);
        long top = Int(l, "pad_top", 0), left = Int(l, "pad_left", 0);
        long bottom = End(l, l.InputShape[0], l.OutputShape[0], kh, sh, top);
        long right = End(l, l.InputShape[1], l.OutputShape[1], kw, sw, left);
        return [Ints("kernel_shape", kh, kw), Ints("strides", sh, sw), Ints("pads", top, left, bottom, right)];
    }

    private static long End(LayerInfo l, int input, int output, int window, int stride, long start)
    {
        var end = Math.Max((long)(output - 1) * stride + window - input, 0) - start;
        if (end < 0)
        {
            throw new ArgumentException($"Layer '{l.Name}' ({l.Type}): {input} → {output} with window {window}, stride {stride} leaves no room for a start padding of {start}.");
        }
        return end;
    }
}

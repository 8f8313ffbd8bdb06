namespace Kiln.Interchange.Tests;

/// <summary>
/// Builds a <see cref="NetworkInfo"/> layer by layer as the generator would describe it (Keras names, shapes with
/// Keras' window arithmetic, config keys, tensors), for layer kinds the generator does not emit yet.
/// </summary>
internal sealed class HandBuilt(string name, params int[] inputShape)
{
    private readonly List<LayerInfo> _layers = [];
    private readonly List<ParameterInfo> _parameters = [];
    private readonly int[] _input = inputShape;
    private int[] _shape = inputShape;
    private int _offset;

    public HandBuilt Dense(int units, string activation = "linear", bool bias = true)
    {
        var layer = Add("dense", "Dense", [units], new() { ["units"] = units, ["activation"] = activation, ["use_bias"] = bias });
        Tensor(layer, "kernel", _layers[^1].InputShape[0], units);
        if (bias)
        {
            Tensor(layer, "bias", units);
        }
        return this;
    }

    public HandBuilt Conv2D(int filters, int kernel, int stride, string padding, string activation = "linear", bool bias = true)
    {
        var (oh, top) = Window(_shape[0], kernel, stride, padding);
        var (ow, left) = Window(_shape[1], kernel, stride, padding);
        var channels = _shape[2];
        var layer = Add("conv2d", "Conv2D", [oh, ow, filters], new()
        {
            ["filters"] = filters, ["kernel_size"] = kernel, ["strides"] = stride, ["padding"] = padding,
            ["pad_top"] = top, ["pad_left"] = left, ["activation"] = activation, ["use_bias"] = bias,
        });
        Tensor(layer, "kernel", kernel, kernel, channels, filters);
        if (bias)
        {
            Tensor(layer, "bias", filters);
        }
        return this;
    }

    public HandBuilt Pool(string type, int size, int stride, string padding)
    {
        var (oh, top) = Window(_shape[0], size, stride, padding);
        var (ow, left) = Window(_shape[1], size, stride, padding);
        Add(type == "MaxPooling2D" ? "max_pooling2d" : "average_pooling2d", type, [oh, ow, _shape[2]], new()
        {
            ["pool_size"] = size, ["strides"] = stride, ["padding"] = padding, ["pad_top"] = top, ["pad_left"] = left,
        });
        return this;
    }

    public HandBuilt GlobalPool(string type) =>
        Plain(type == "GlobalMaxPooling2D" ? "global_max_pooling2d" : "global_average_pooling2d", type, [_shape[2]]);

    public HandBuilt Flatten() => Plain("flatten", "Flatten", [_shape.Aggregate(1, (a, b) => a * b)]);

    public HandBuilt BatchNormalization(double epsilon = 1e-3, bool center = true, bool scale = true)
    {
        var channels = _shape[^1];
        var layer = Add("batch_normalization", "BatchNormalization", _shape, new() { ["epsilon"] = epsilon, ["center"] = center, ["scale"] = scale });
        if (scale)
        {
            Tensor(layer, "gamma", channels);
        }
        if (center)
        {
            Tensor(layer, "beta", channels);
        }
        Tensor(layer, "moving_mean", [channels], trainable: false);
        Tensor(layer, "moving_variance", [channels], trainable: false);
        return this;
    }

    /// <summary>A shape-preserving layer with only config (Activation, ReLU, LeakyReLU, ELU, Rescaling, Dropout).</summary>
    public HandBuilt Elementwise(string type, Dictionary<string, object> config) => Plain(KerasName(type), type, _shape, config);

    public NetworkInfo Build() =>
        new(name, _input, _shape.Aggregate(1, (a, b) => a * b), Loss.MeanSquaredError, name, [.. _parameters], [.. _layers]);

    /// <summary>Keras' same/valid output size and, for same, the padding before the first row.</summary>
    public static (int Output, int PadStart) Window(int input, int window, int stride, string padding)
    {
        if (padding == "valid")
        {
            return ((input - window) / stride + 1, 0);
        }
        var output = (input + stride - 1) / stride;
        return (output, Math.Max((output - 1) * stride + window - input, 0) / 2);
    }

    private HandBuilt Plain(string prefix, string type, int[] output, Dictionary<string, object>? config = null)
    {
        Add(prefix, type, output, config ?? []);
        return this;
    }

    private string Add(string prefix, string type, int[] output, Dictionary<string, object> config)
    {
        var count = _layers.Count(l => l.Type == type);
        var layerName = count == 0 ? prefix : $"{prefix}_{count}";
        _layers.Add(new LayerInfo(layerName, type, _shape, output, config));
        _shape = output;
        return layerName;
    }

    private void Tensor(string layer, string suffix, params int[] shape) => Tensor(layer, suffix, shape, trainable: true);

    private void Tensor(string layer, string suffix, int[] shape, bool trainable)
    {
        var parameter = new ParameterInfo($"{layer}.{suffix}", shape, _offset, trainable: trainable);
        _parameters.Add(parameter);
        _offset += parameter.Length;
    }

    private static string KerasName(string type) => type switch
    {
        "LeakyReLU" => "leaky_re_lu",
        "ReLU" => "re_lu",
        _ => type.ToLowerInvariant(),
    };
}

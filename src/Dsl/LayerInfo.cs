namespace Kiln;

/// <summary>
/// One layer as the generator saw it, in Keras' terms: its name, Keras class name, shapes per example and its
/// configuration (Keras' <c>get_config()</c> keys with int, float, bool or string values). Exporters (ONNX) and tools
/// read it; the runtime does not. Immutable: safe to read from any thread.
/// </summary>
public sealed class LayerInfo(string name, string type, int[] inputShape, int[] outputShape, IReadOnlyDictionary<string, object> config)
{
    /// <summary>The layer's name (<c>conv2d_1</c>), also the prefix of its saved tensors.</summary>
    public string Name { get; } = name;
    /// <summary>Keras' class name: <c>Dense</c>, <c>Conv2D</c>, <c>MaxPooling2D</c>, …</summary>
    public string Type { get; } = type;
    /// <summary>Per-example input shape, channels last.</summary>
    public IReadOnlyList<int> InputShape { get; } = inputShape;
    /// <summary>Per-example output shape, channels last.</summary>
    public IReadOnlyList<int> OutputShape { get; } = outputShape;
    /// <summary>Keras-style configuration, e.g. <c>units</c>, <c>activation</c>, <c>padding</c>, plus Kiln's resolved
    /// <c>pad_top</c>/<c>pad_left</c> for <c>same</c> windows.</summary>
    public IReadOnlyDictionary<string, object> Config { get; } = config;

    /// <summary>A configuration value, or <paramref name="fallback"/> when the key is absent.</summary>
    public T Get<T>(string key, T fallback) => Config.TryGetValue(key, out var value) && value is T t ? t : fallback;
}

namespace Kiln.Onnx;

/// <summary>Typed reads of a <see cref="LayerInfo.Config"/>, whose numbers may be int, float or double and whose
/// window sizes may be one int or an (height, width) pair. Stateless: safe from any thread.</summary>
internal static class LayerConfig
{
    public static double Number(LayerInfo layer, string key, double fallback) =>
        layer.Config.TryGetValue(key, out var value) ? value switch
        {
            int i => i,
            long l => l,
            float f => f,
            double d => d,
            null => fallback,
            _ => throw Bad(layer, key, value, "a number"),
        } : fallback;

    public static double? OptionalNumber(LayerInfo layer, string key) =>
        layer.Config.TryGetValue(key, out var value) && value is not null ? Number(layer, key, 0) : null;

    public static int Int(LayerInfo layer, string key, int fallback) =>
        layer.Config.TryGetValue(key, out var value) ? value switch
        {
            int i => i,
            long l => checked((int)l),
            _ => throw Bad(layer, key, value, "an integer"),
        } : fallback;

    public static (int Height, int Width) Pair(LayerInfo layer, string key, (int, int) fallback) =>
        layer.Config.TryGetValue(key, out var value) ? value switch
        {
            int i => (i, i),
            int[] { Length: 2 } p => (p[0], p[1]),
            _ => throw Bad(layer, key, value, "an integer or a pair of integers"),
        } : fallback;

    public static string Text(LayerInfo layer, string key, string fallback) =>
        layer.Config.TryGetValue(key, out var value) ? value as string ?? throw Bad(layer, key, value, "a string") : fallback;

    public static bool Flag(LayerInfo layer, string key, bool fallback) =>
        layer.Config.TryGetValue(key, out var value) ? value as bool? ?? throw Bad(layer, key, value, "true or false") : fallback;

    private static ArgumentException Bad(LayerInfo layer, string key, object? value, string expected) =>
        new($"Layer '{layer.Name}' ({layer.Type}): config '{key}' is {value ?? "null"} ({value?.GetType().Name ?? "null"}), expected {expected}.");
}

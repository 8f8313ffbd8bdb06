namespace Kiln.Generator.Layers;

/// <summary>Keras' window arithmetic for convolutions and pools.</summary>
internal static class Windows
{
    /// <summary>'valid' fits whole windows; 'same' gives ceil(in / stride) with the odd padding at the end.</summary>
    public static (int Output, int PadBefore) Output(int input, int size, int stride, Model.Padding padding)
    {
        if (padding == Model.Padding.Valid)
        {
            return (input < size ? 0 : (input - size) / stride + 1, 0);
        }
        var output = (input + stride - 1) / stride;
        var padTotal = System.Math.Max((output - 1) * stride + size - input, 0);
        return (output, padTotal / 2);
    }
}

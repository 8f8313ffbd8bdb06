namespace Kiln.Runtime.Cpu;

/// <summary>
/// Shapes of one 2-D max pooling (NHWC, square <see cref="Pool"/>×<see cref="Pool"/> window). Padded cells are never
/// selected; padding at the bottom and right is whatever <see cref="OutH"/> and <see cref="OutW"/> imply.
/// </summary>
public readonly record struct PoolGeometry(int InH, int InW, int Channels, int OutH, int OutW, int Pool, int Stride, int PadTop, int PadLeft)
{
    /// <summary>Floats in one input sample.</summary>
    public int InSize => InH * InW * Channels;

    /// <summary>Floats in one output sample.</summary>
    public int OutSize => OutH * OutW * Channels;

    internal void Validate()
    {
        if (InH <= 0 || InW <= 0 || Channels <= 0 || OutH <= 0 || OutW <= 0 || Pool <= 0 || Stride <= 0 || PadTop < 0 || PadLeft < 0)
        {
            throw new ArgumentException($"Invalid pooling geometry {this}: sizes, pool and stride must be positive, padding non-negative.", "g");
        }
    }
}

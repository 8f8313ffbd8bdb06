namespace Kiln.Runtime.Cpu;

/// <summary>
/// Shapes of one 2-D convolution (NHWC, square <see cref="Kernel"/>×<see cref="Kernel"/> window, zero padding).
/// Padding at the bottom and right is whatever <see cref="OutH"/> and <see cref="OutW"/> imply.
/// </summary>
public readonly record struct ConvGeometry(int InH, int InW, int InC, int OutH, int OutW, int OutC, int Kernel, int Stride, int PadTop, int PadLeft)
{
    /// <summary>Floats in one input sample.</summary>
    public int InSize => InH * InW * InC;

    /// <summary>Floats in one output sample.</summary>
    public int OutSize => OutH * OutW * OutC;

    /// <summary>Length of one im2col row, ordered (kh, kw, ic): the rows of the Keras kernel [K, K, InC, OutC].</summary>
    public int PatchSize => Kernel * Kernel * InC;

    internal void Validate()
    {
        if (InH <= 0 || InW <= 0 || InC <= 0 || OutH <= 0 || OutW <= 0 || OutC <= 0 || Kernel <= 0 || Stride <= 0 || PadTop < 0 || PadLeft < 0)
        {
            throw new ArgumentException($"Invalid convolution geometry {this}: sizes, kernel and stride must be positive, padding non-negative.", "g");
        }
    }
}

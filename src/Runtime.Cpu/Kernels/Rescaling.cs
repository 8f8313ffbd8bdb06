namespace Kiln.Runtime.Cpu;

/// <summary>
/// Keras' <c>Rescaling(scale, offset)</c>: y = x·scale + offset, element-wise; mirror of
/// Runtime.Cuda/Kernels/rescaling.cu. Static and stateless: calls on distinct buffers may run concurrently.
/// </summary>
public static class Rescaling
{
    /// <summary>y = x·scale + offset (one multiply and one add, not fused, as Keras computes it). x and y may be the same buffer.</summary>
    public static void Forward(ReadOnlySpan<float> x, Span<float> y, float scale, float offset)
    {
        Check.Length(y.Length, x.Length, nameof(y));
        for (var i = 0; i < x.Length; i++)
        {
            y[i] = x[i] * scale + offset;
        }
    }

    /// <summary>dx = dy·scale. dx may be dy's buffer.</summary>
    public static void Backward(ReadOnlySpan<float> dy, Span<float> dx, float scale)
    {
        Check.Length(dx.Length, dy.Length, nameof(dx));
        for (var i = 0; i < dy.Length; i++)
        {
            dx[i] = dy[i] * scale;
        }
    }
}

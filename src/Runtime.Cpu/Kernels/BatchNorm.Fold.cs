namespace Kiln.Runtime.Cpu;

// Inference-mode BatchNormalization folded into the convolution (or any affine map) before it: with
// s = γ/√(σ² + ε) and t = β − μ·s from the moving statistics, BN(conv(x, w) + b) = conv(x, w·s) + (b·s + t), so the
// normalisation's pass over the activations is saved. The outputs agree with the two layers run apart within rounding,
// not bit for bit (w·s is rounded before the products are summed).
public static partial class BatchNorm
{
    /// <summary>
    /// foldedKernel = kernel·s per output channel (the kernel's last axis, Keras' layout) and foldedBias = bias·s + t
    /// (bias empty: none). γ empty is <c>scale=False</c>, β empty <c>center=False</c>; s is computed as
    /// <see cref="ForwardInference(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, int, float)"/> computes it.
    /// </summary>
    public static void Fold(ReadOnlySpan<float> kernel, ReadOnlySpan<float> bias, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, ReadOnlySpan<float> movingMean, ReadOnlySpan<float> movingVariance, float epsilon, Span<float> foldedKernel, Span<float> foldedBias)
    {
        var channels = foldedBias.Length;
        Check.Positive(channels, nameof(foldedBias));
        Check.Length(movingMean.Length, channels, nameof(movingMean));
        Check.Length(movingVariance.Length, channels, nameof(movingVariance));
        Check.Length(foldedKernel.Length, kernel.Length, nameof(foldedKernel));
        if (kernel.Length % channels != 0)
        {
            throw new ArgumentException($"The kernel's {kernel.Length} values are not a whole number of rows of {channels} output channels.", nameof(kernel));
        }
        Optional(bias.Length, channels, nameof(bias));
        Optional(gamma.Length, channels, nameof(gamma));
        Optional(beta.Length, channels, nameof(beta));
        if (!(epsilon > 0f))
        {
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must be positive.");
        }
        Span<float> scale = channels <= 512 ? stackalloc float[channels] : new float[channels];
        for (var c = 0; c < channels; c++)
        {
            var invStd = (float)(1 / Math.Sqrt((double)movingVariance[c] + epsilon));
            scale[c] = (gamma.IsEmpty ? 1f : gamma[c]) * invStd;
            var shift = (beta.IsEmpty ? 0f : beta[c]) - movingMean[c] * scale[c];
            foldedBias[c] = (bias.IsEmpty ? 0f : bias[c]) * scale[c] + shift;
        }
        for (var row = 0; row < kernel.Length; row += channels)
        {
            for (var c = 0; c < channels; c++)
            {
                foldedKernel[row + c] = kernel[row + c] * scale[c];
            }
        }
    }
}

namespace Kiln.Runtime.Cpu;

/// <summary>
/// Global average and max pooling over the pixels of each sample (Keras' <c>GlobalAveragePooling2D</c> and
/// <c>GlobalMaxPooling2D</c>, <c>keepdims=False</c>); mirror of Runtime.Cuda/Kernels/global_pool2d.cu.
/// x [batch, pixels, channels] (pixels = H·W, NHWC) → y [batch, channels]. Static and stateless: calls on distinct
/// buffers may run concurrently.
/// </summary>
/// <remarks>
/// Average: y = Σ_p x / pixels, summed over pixels ascending in double and rounded once; backward dx = dy/pixels.
/// Max: y = the maximum, argmax[b, c] = p·channels + c for the FIRST maximum in pixel order (as <see cref="MaxPool2D"/>),
/// an index within the sample; backward writes dy there and zero elsewhere. Each output is written by one fixed
/// sequence of operations, so any thread count gives the same bits.
/// </remarks>
public static class GlobalPool2D
{
    /// <summary>y[b, c] = mean over the pixels of x[b, ·, c].</summary>
    public static unsafe void AverageForward(ReadOnlySpan<float> x, Span<float> y, int batch, int pixels, int channels)
    {
        CheckShapes(x.Length, nameof(x), y.Length, nameof(y), batch, pixels, channels);
        const int block = 256;
        Span<double> sum = stackalloc double[block];
        for (var b = 0; b < batch; b++)
        {
            var xs = x.Slice(b * pixels * channels, pixels * channels);
            for (var c0 = 0; c0 < channels; c0 += block)
            {
                var n = Math.Min(block, channels - c0);
                sum.Clear();
                for (var p = 0; p < pixels; p++)
                {
                    var row = xs.Slice(p * channels + c0, n);
                    for (var c = 0; c < n; c++)
                    {
                        sum[c] += row[c];
                    }
                }
                for (var c = 0; c < n; c++)
                {
                    y[b * channels + c0 + c] = (float)(sum[c] / pixels);
                }
            }
        }
    }

    /// <summary>dx[b, p, c] = dy[b, c] / pixels (overwritten).</summary>
    public static void AverageBackward(ReadOnlySpan<float> dy, Span<float> dx, int batch, int pixels, int channels)
    {
        CheckShapes(dx.Length, nameof(dx), dy.Length, nameof(dy), batch, pixels, channels);
        for (var b = 0; b < batch; b++)
        {
            for (var p = 0; p < pixels; p++)
            {
                for (var c = 0; c < channels; c++)
                {
                    dx[(b * pixels + p) * channels + c] = dy[b * channels + c] / pixels;
                }
            }
        }
    }

    /// <summary>
    /// y[b, c] = max over the pixels; argmax[b, c] = p·channels + c of the first maximum. An empty argmax (inference) is
    /// not written.
    /// </summary>
    public static void MaxForward(ReadOnlySpan<float> x, Span<float> y, Span<int> argmax, int batch, int pixels, int channels)
    {
        CheckShapes(x.Length, nameof(x), y.Length, nameof(y), batch, pixels, channels);
        MaxPool2D.CheckArgmax(argmax.Length, y.Length);
        for (var b = 0; b < batch; b++)
        {
            var xs = x.Slice(b * pixels * channels, pixels * channels);
            for (var c = 0; c < channels; c++)
            {
                var (best, at) = (xs[c], c);
                for (var p = 1; p < pixels; p++)
                {
                    var v = xs[p * channels + c];
                    if (v > best)
                    {
                        (best, at) = (v, p * channels + c);
                    }
                }
                y[b * channels + c] = best;
                if (!argmax.IsEmpty)
                {
                    argmax[b * channels + c] = at;
                }
            }
        }
    }

    /// <summary>dx zeroed, then dx[b, argmax[b, c]] = dy[b, c].</summary>
    public static void MaxBackward(ReadOnlySpan<float> dy, ReadOnlySpan<int> argmax, Span<float> dx, int batch, int pixels, int channels)
    {
        CheckShapes(dx.Length, nameof(dx), dy.Length, nameof(dy), batch, pixels, channels);
        Check.Length(argmax.Length, dy.Length, nameof(argmax));
        dx.Clear();
        for (var b = 0; b < batch; b++)
        {
            for (var c = 0; c < channels; c++)
            {
                var at = argmax[b * channels + c];
                if ((uint)at >= (uint)(pixels * channels) || at % channels != c)
                {
                    throw new ArgumentException($"argmax[{b * channels + c}] = {at} is not an index of channel {c} within a sample of {pixels}×{channels}.", nameof(argmax));
                }
                dx[b * pixels * channels + at] = dy[b * channels + c];
            }
        }
    }

    private static void CheckShapes(int inLength, string inName, int outLength, string outName, int batch, int pixels, int channels)
    {
        Check.Positive(batch, nameof(batch));
        Check.Positive(pixels, nameof(pixels));
        Check.Positive(channels, nameof(channels));
        Check.Length(inLength, (long)batch * pixels * channels, inName);
        Check.Length(outLength, (long)batch * channels, outName);
    }
}

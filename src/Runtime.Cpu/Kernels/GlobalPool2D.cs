using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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
/// an index within the sample; backward writes dy there and zero elsewhere. Samples run in parallel and each output is
/// written by one fixed sequence of operations (vectors across channels, lane for lane the scalar one), so any thread
/// count gives the same bits.
/// </remarks>
public static class GlobalPool2D
{
    /// <summary>y[b, c] = mean over the pixels of x[b, ·, c].</summary>
    public static unsafe void AverageForward(ReadOnlySpan<float> x, Span<float> y, int batch, int pixels, int channels)
    {
        CheckShapes(x.Length, nameof(x), y.Length, nameof(y), batch, pixels, channels);
        fixed (float* px = x, py = y)
        {
            var job = new Job(px, py, null, batch, pixels, channels);
            Workers.Run(&AverageForwardPart, &job, Parts(batch, pixels, channels));
        }
    }

    /// <summary>dx[b, p, c] = dy[b, c] / pixels (overwritten).</summary>
    public static unsafe void AverageBackward(ReadOnlySpan<float> dy, Span<float> dx, int batch, int pixels, int channels)
    {
        CheckShapes(dx.Length, nameof(dx), dy.Length, nameof(dy), batch, pixels, channels);
        fixed (float* pdy = dy, pdx = dx)
        {
            var job = new Job(pdy, pdx, null, batch, pixels, channels);
            Workers.Run(&AverageBackwardPart, &job, Parts(batch, pixels, channels));
        }
    }

    /// <summary>
    /// y[b, c] = max over the pixels; argmax[b, c] = p·channels + c of the first maximum. An empty argmax (inference) is
    /// not written.
    /// </summary>
    public static unsafe void MaxForward(ReadOnlySpan<float> x, Span<float> y, Span<int> argmax, int batch, int pixels, int channels)
    {
        CheckShapes(x.Length, nameof(x), y.Length, nameof(y), batch, pixels, channels);
        MaxPool2D.CheckArgmax(argmax.Length, y.Length);
        fixed (float* px = x, py = y)
        fixed (int* pargmax = argmax)
        {
            var job = new Job(px, py, pargmax, batch, pixels, channels);
            Workers.Run(&MaxForwardPart, &job, Parts(batch, pixels, channels));
        }
    }

    /// <summary>dx zeroed, then dx[b, argmax[b, c]] = dy[b, c].</summary>
    public static unsafe void MaxBackward(ReadOnlySpan<float> dy, ReadOnlySpan<int> argmax, Span<float> dx, int batch, int pixels, int channels)
    {
        CheckShapes(dx.Length, nameof(dx), dy.Length, nameof(dy), batch, pixels, channels);
        Check.Length(argmax.Length, dy.Length, nameof(argmax));
        // Checked before any part runs, so a bad index leaves dx untouched and names its place.
        for (var i = 0; i < argmax.Length; i++)
        {
            var (at, c) = (argmax[i], i % channels);
            if ((uint)at >= (uint)(pixels * channels) || at % channels != c)
            {
                throw new ArgumentException($"argmax[{i}] = {at} is not an index of channel {c} within a sample of {pixels}×{channels}.", nameof(argmax));
            }
        }
        fixed (float* pdy = dy, pdx = dx)
        fixed (int* pargmax = argmax)
        {
            var job = new Job(pdy, pdx, pargmax, batch, pixels, channels);
            Workers.Run(&MaxBackwardPart, &job, Parts(batch, pixels, channels));
        }
    }

    // Samples split over the threads once a call is worth it.
    private static int Parts(int batch, int pixels, int channels) => (int)Math.Min(batch, Workers.PartsFor((long)batch * pixels * channels, 1 << 15));

    // Samples [lo, hi): each channel summed over the pixels in double, four channels per vector.
    private static unsafe void AverageForwardPart(void* state, int part, int parts)
    {
        ref readonly var job = ref *(Job*)state;
        var (lo, hi) = Gemm.Range(job.Batch, 1, part, parts);
        var (pixels, c) = (job.Pixels, job.Channels);
        for (var b = lo; b < hi; b++)
        {
            var xs = job.Src + (long)b * pixels * c;
            var y = job.Dst + (long)b * c;
            var j = 0;
            if (Avx.IsSupported)
            {
                var divisor = Vector256.Create((double)pixels);
                for (; j <= c - 4; j += 4)
                {
                    var sum = Vector256<double>.Zero;
                    for (var p = 0; p < pixels; p++)
                    {
                        sum += Avx.ConvertToVector256Double(Sse.LoadVector128(xs + (long)p * c + j));
                    }
                    Sse.Store(y + j, Avx.ConvertToVector128Single(sum / divisor));
                }
            }
            for (; j < c; j++)
            {
                var sum = 0.0;
                for (var p = 0; p < pixels; p++)
                {
                    sum += xs[(long)p * c + j];
                }
                y[j] = (float)(sum / pixels);
            }
        }
    }

    // Samples [lo, hi): every pixel's row is dy's row divided by the pixel count.
    private static unsafe void AverageBackwardPart(void* state, int part, int parts)
    {
        ref readonly var job = ref *(Job*)state;
        var (lo, hi) = Gemm.Range(job.Batch, 1, part, parts);
        var (pixels, c) = (job.Pixels, job.Channels);
        var divisor = (float)pixels;
        for (var b = lo; b < hi; b++)
        {
            var dy = job.Src + (long)b * c;
            for (var p = 0; p < pixels; p++)
            {
                var dx = job.Dst + ((long)b * pixels + p) * c;
                var j = 0;
                for (; j <= c - Vector256<float>.Count; j += Vector256<float>.Count)
                {
                    (Vector256.Load(dy + j) / Vector256.Create(divisor)).Store(dx + j);
                }
                for (; j < c; j++)
                {
                    dx[j] = dy[j] / divisor;
                }
            }
        }
    }

    // Samples [lo, hi): eight channels at a time down the pixels; only a strictly greater value replaces the maximum.
    private static unsafe void MaxForwardPart(void* state, int part, int parts)
    {
        ref readonly var job = ref *(Job*)state;
        var (lo, hi) = Gemm.Range(job.Batch, 1, part, parts);
        var (pixels, c) = (job.Pixels, job.Channels);
        for (var b = lo; b < hi; b++)
        {
            var xs = job.Src + (long)b * pixels * c;
            var y = job.Dst + (long)b * c;
            var argmax = job.Argmax == null ? null : job.Argmax + (long)b * c;
            var j = 0;
            for (; j <= c - Vector256<float>.Count; j += Vector256<float>.Count)
            {
                var best = Vector256.Load(xs + j);
                var at = Vector256.Create(j) + Vector256<int>.Indices;
                for (var p = 1; p < pixels; p++)
                {
                    var v = Vector256.Load(xs + (long)p * c + j);
                    var greater = Vector256.GreaterThan(v, best);
                    best = Vector256.ConditionalSelect(greater, v, best);
                    at = Vector256.ConditionalSelect(greater.AsInt32(), Vector256.Create(p * c + j) + Vector256<int>.Indices, at);
                }
                best.Store(y + j);
                if (argmax != null)
                {
                    at.Store(argmax + j);
                }
            }
            for (; j < c; j++)
            {
                var (best, at) = (xs[j], j);
                for (var p = 1; p < pixels; p++)
                {
                    var v = xs[(long)p * c + j];
                    if (v > best)
                    {
                        (best, at) = (v, p * c + j);
                    }
                }
                y[j] = best;
                if (argmax != null)
                {
                    argmax[j] = at;
                }
            }
        }
    }

    // Samples [lo, hi): the sample's dx cleared, then dy written at each channel's maximum.
    private static unsafe void MaxBackwardPart(void* state, int part, int parts)
    {
        ref readonly var job = ref *(Job*)state;
        var (lo, hi) = Gemm.Range(job.Batch, 1, part, parts);
        var (pixels, c) = (job.Pixels, job.Channels);
        for (var b = lo; b < hi; b++)
        {
            var dx = job.Dst + (long)b * pixels * c;
            new Span<float>(dx, pixels * c).Clear();
            for (var j = 0; j < c; j++)
            {
                dx[job.Argmax[(long)b * c + j]] = job.Src[(long)b * c + j];
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

    // Src: x or dy; Dst: y or dx.
    private readonly unsafe struct Job(float* src, float* dst, int* argmax, int batch, int pixels, int channels)
    {
        public readonly float* Src = src, Dst = dst;
        public readonly int* Argmax = argmax;
        public readonly int Batch = batch, Pixels = pixels, Channels = channels;
    }
}

using System.Runtime.Intrinsics;

namespace Kiln.Runtime.Cpu;

/// <summary>
/// 2-D average pooling (Keras' <c>AveragePooling2D</c>); mirror of Runtime.Cuda/Kernels/avgpool2d.cu.
/// x [batch, InH, InW, C] → y [batch, OutH, OutW, C]. Static and stateless: calls on distinct buffers may run concurrently.
/// </summary>
/// <remarks>
/// y = (Σ of the window's cells that lie inside the input) / (their count): padded cells are neither summed nor counted,
/// as Keras' <c>same</c> padding does; under <c>valid</c> every cell is inside. A window with no cell inside gives 0.
/// Sums run in row-major window order (kh, then kw), and the backward pass adds dy/count to each cell in row-major
/// output order, the order the CUDA gather uses; samples run in parallel, so any thread count gives the same bits.
/// </remarks>
public static class AvgPool2D
{
    /// <summary>y = the mean of each window's cells inside the input.</summary>
    public static unsafe void Forward(ReadOnlySpan<float> x, Span<float> y, int batch, in PoolGeometry g)
    {
        CheckShapes(batch, g, x.Length, nameof(x), y.Length, nameof(y));
        fixed (float* px = x, py = y)
        {
            var job = new Job(px, py, batch, g);
            Workers.Run(&ForwardPart, &job, Workers.PartsFor((long)batch * g.InSize, 1 << 15));
        }
    }

    /// <summary>dx overwritten: each cell gets Σ dy/count over the windows that hold it.</summary>
    public static unsafe void Backward(ReadOnlySpan<float> dy, Span<float> dx, int batch, in PoolGeometry g)
    {
        CheckShapes(batch, g, dx.Length, nameof(dx), dy.Length, nameof(dy));
        fixed (float* pdy = dy, pdx = dx)
        {
            var job = new Job(pdy, pdx, batch, g);
            Workers.Run(&BackwardPart, &job, Workers.PartsFor((long)batch * g.InSize, 1 << 15));
        }
    }

    /// <summary>The cells of window (oh, ow) inside the input: rows [khLo, khHi) and columns [kwLo, kwHi) of the window.</summary>
    internal static (int KhLo, int KhHi, int KwLo, int KwHi) Cells(in PoolGeometry g, int oh, int ow)
    {
        var ih0 = oh * g.Stride - g.PadTop;
        var iw0 = ow * g.Stride - g.PadLeft;
        return (Math.Max(0, -ih0), Math.Min(g.Pool, g.InH - ih0), Math.Max(0, -iw0), Math.Min(g.Pool, g.InW - iw0));
    }

    private static unsafe void ForwardPart(void* state, int part, int parts)
    {
        ref readonly var job = ref *(Job*)state;
        var g = job.Geometry;
        var c = g.Channels;
        var (lo, hi) = Gemm.Range(job.Batch, 1, part, parts);
        for (var b = lo; b < hi; b++)
        {
            var xs = job.Src + (long)b * g.InSize;
            for (var oh = 0; oh < g.OutH; oh++)
            {
                for (var ow = 0; ow < g.OutW; ow++)
                {
                    var y = job.Dst + (long)b * g.OutSize + (oh * g.OutW + ow) * c;
                    var (khLo, khHi, kwLo, kwHi) = Cells(g, oh, ow);
                    var count = Math.Max(khHi - khLo, 0) * Math.Max(kwHi - kwLo, 0);
                    var corner = xs + ((oh * g.Stride - g.PadTop) * g.InW + ow * g.Stride - g.PadLeft) * c;
                    // Each channel's sum starts at 0 and adds the cells in window order, vector lanes or scalar alike.
                    var ch = 0;
                    for (; ch <= c - Vector256<float>.Count; ch += Vector256<float>.Count)
                    {
                        var sum = Vector256<float>.Zero;
                        for (var kh = khLo; kh < khHi; kh++)
                        {
                            for (var kw = kwLo; kw < kwHi; kw++)
                            {
                                sum += Vector256.Load(corner + (kh * g.InW + kw) * c + ch);
                            }
                        }
                        (count > 0 ? sum / Vector256.Create((float)count) : sum).Store(y + ch);
                    }
                    for (; ch < c; ch++)
                    {
                        var sum = 0f;
                        for (var kh = khLo; kh < khHi; kh++)
                        {
                            for (var kw = kwLo; kw < kwHi; kw++)
                            {
                                sum += corner[(kh * g.InW + kw) * c + ch];
                            }
                        }
                        y[ch] = count > 0 ? sum / count : sum;
                    }
                }
            }
        }
    }

    private static unsafe void BackwardPart(void* state, int part, int parts)
    {
        ref readonly var job = ref *(Job*)state;
        var g = job.Geometry;
        var c = g.Channels;
        var (lo, hi) = Gemm.Range(job.Batch, 1, part, parts);
        for (var b = lo; b < hi; b++)
        {
            var dxs = job.Dst + (long)b * g.InSize;
            new Span<float>(dxs, g.InSize).Clear();
            for (var oh = 0; oh < g.OutH; oh++)
            {
                for (var ow = 0; ow < g.OutW; ow++)
                {
                    var dy = job.Src + (long)b * g.OutSize + (oh * g.OutW + ow) * c;
                    var (khLo, khHi, kwLo, kwHi) = Cells(g, oh, ow);
                    var count = Math.Max(khHi - khLo, 0) * Math.Max(kwHi - kwLo, 0);
                    var corner = dxs + ((oh * g.Stride - g.PadTop) * g.InW + ow * g.Stride - g.PadLeft) * c;
                    // Each cell adds dy/count once per window that holds it, windows in output order.
                    var ch = 0;
                    for (; ch <= c - Vector256<float>.Count; ch += Vector256<float>.Count)
                    {
                        var share = Vector256.Load(dy + ch) / Vector256.Create((float)count);
                        for (var kh = khLo; kh < khHi; kh++)
                        {
                            for (var kw = kwLo; kw < kwHi; kw++)
                            {
                                var cell = corner + (kh * g.InW + kw) * c + ch;
                                (Vector256.Load(cell) + share).Store(cell);
                            }
                        }
                    }
                    for (; ch < c; ch++)
                    {
                        var share = dy[ch] / count;
                        for (var kh = khLo; kh < khHi; kh++)
                        {
                            for (var kw = kwLo; kw < kwHi; kw++)
                            {
                                corner[(kh * g.InW + kw) * c + ch] += share;
                            }
                        }
                    }
                }
            }
        }
    }

    private static void CheckShapes(int batch, in PoolGeometry g, int inLength, string inName, int outLength, string outName)
    {
        Check.Positive(batch, nameof(batch));
        g.Validate();
        Check.Length(inLength, (long)batch * g.InSize, inName);
        Check.Length(outLength, (long)batch * g.OutSize, outName);
    }

    private readonly unsafe struct Job(float* src, float* dst, int batch, PoolGeometry geometry)
    {
        public readonly float* Src = src, Dst = dst;
        public readonly int Batch = batch;
        public readonly PoolGeometry Geometry = geometry;
    }
}

using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Runtime.Cpu;

/// <summary>
/// 2-D max pooling; mirror of Runtime.Cuda/Kernels/maxpool2d.cu. x [batch, InH, InW, C] → y [batch, OutH, OutW, C].
/// </summary>
public static partial class MaxPool2D
{
    /// <summary>
    /// y = the window maximum; argmax[b·OutH·OutW·C + (oh·OutW + ow)·C + c] = (ih·InW + iw)·C + c, the index within
    /// the sample of the FIRST maximum in row-major window order (kh, then kw). Padded cells are never selected; a
    /// window lying wholly in the padding gives y = 0 and argmax = −1. An empty argmax (inference: no backward pass reads
    /// it) is not written; y is the same.
    /// </summary>
    public static unsafe void Forward(ReadOnlySpan<float> x, Span<float> y, Span<int> argmax, int batch, in PoolGeometry g)
    {
        CheckShapes(batch, g, x.Length, nameof(x), y.Length, nameof(y));
        CheckArgmax(argmax.Length, y.Length);
        fixed (float* px = x, py = y)
        fixed (int* pargmax = argmax)
        {
            var job = new ForwardJob(px, py, pargmax, batch, g);
            Workers.Run(&ForwardPart, &job, Workers.PartsFor((long)batch * g.InSize, 1 << 15));
        }
    }

    /// <summary>argmax holds an index for every output, or is empty.</summary>
    internal static void CheckArgmax(int argmaxLength, int outputs)
    {
        if (argmaxLength != 0)
        {
            Check.Length(argmaxLength, outputs, "argmax");
        }
    }

    // Samples [lo, hi) of the batch.
    private static unsafe void ForwardPart(void* state, int part, int parts)
    {
        ref readonly var job = ref *(ForwardJob*)state;
        var g = job.Geometry;
        var (lo, hi) = Gemm.Range(job.Batch, 1, part, parts);
        for (var b = lo; b < hi; b++)
        {
            for (var oh = 0; oh < g.OutH; oh++)
            {
                var o = (long)(b * g.OutH + oh) * g.OutW * g.Channels;
                Row(job.X + (long)b * g.InSize, g, oh, job.Y + o, job.Argmax == null ? null : job.Argmax + o);
            }
        }
    }

    /// <summary>
    /// Output row <paramref name="oh"/> of one sample whose input starts at <paramref name="xs"/>; only the input rows
    /// that row's windows read are touched, so xs may point before a buffer that holds just those rows. A null argmax is
    /// not written.
    /// </summary>
    internal static unsafe void Row(float* xs, in PoolGeometry g, int oh, float* y, int* argmax)
    {
        var c = g.Channels;
        // Columns [runLo, runHi) have windows wholly inside the row; with whole vectors of channels, the windows of
        // those columns in an unclipped row go through Inside in one run.
        var last = g.InW - g.Pool + g.PadLeft;
        var runLo = (g.PadLeft + g.Stride - 1) / g.Stride;
        var runHi = c % Vector256<float>.Count != 0 || last < 0 ? 0 : Math.Min(g.OutW, last / g.Stride + 1);
        var ih0 = oh * g.Stride - g.PadTop;
        var (khLo, khHi) = (Math.Max(0, -ih0), Math.Min(g.Pool, g.InH - ih0));
        var run = khLo == 0 && khHi == g.Pool && runLo < runHi;
        for (var ow = 0; ow < g.OutW; ow++)
        {
            var iw0 = ow * g.Stride - g.PadLeft;
            var o = (long)ow * c;
            if (run && ow == runLo)
            {
                Inside(xs, (ih0 * g.InW + iw0) * c, g.Stride * c, runHi - runLo, g.InW * c, g.Pool, c, y + o, argmax == null ? null : argmax + o);
                ow = runHi - 1;
                continue;
            }
            var (kwLo, kwHi) = (Math.Max(0, -iw0), Math.Min(g.Pool, g.InW - iw0));
            Window(xs, (ih0 * g.InW + iw0) * c, g.InW * c, khLo, khHi, kwLo, kwHi, c, y + o, argmax == null ? null : argmax + o);
        }
    }

    // Window's rule for a run of unclipped windows, the first at index first and each next one step further, with whole
    // vectors of channels: every cell is a fixed offset from the window's first, so only the winning offset is tracked,
    // and the common 2×2 window is unrolled.
    private static unsafe void Inside(float* values, int first, int step, int windows, int rowStride, int pool, int c, float* y, int* argmax)
    {
        var (right, down, diagonal) = (Vector256.Create(c), Vector256.Create(rowStride), Vector256.Create(rowStride + c));
        for (var w = 0; w < windows; w++, first += step, y += c)
        {
            for (var ch = 0; ch < c; ch += Vector256<float>.Count)
            {
                var seed = values + first + ch;
                var (max, offset) = (Vector256.Load(seed), Vector256<int>.Zero);
                if (pool == 2)
                {
                    Cell(seed + c, right, ref max, ref offset);
                    Cell(seed + rowStride, down, ref max, ref offset);
                    Cell(seed + rowStride + c, diagonal, ref max, ref offset);
                }
                else
                {
                    for (var kh = 0; kh < pool; kh++)
                    {
                        for (var kw = kh == 0 ? 1 : 0; kw < pool; kw++)
                        {
                            Cell(seed + kh * rowStride + kw * c, Vector256.Create(kh * rowStride + kw * c), ref max, ref offset);
                        }
                    }
                }
                max.Store(y + ch);
                if (argmax != null)
                {
                    (Vector256.Create(first + ch) + Vector256<int>.Indices + offset).Store(argmax + (long)w * c + ch);
                }
            }
        }
    }

    // One later cell of a window: only a strictly greater value replaces the maximum (ties keep the first).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Cell(float* cell, Vector256<int> offset, ref Vector256<float> max, ref Vector256<int> best)
    {
        var v = Vector256.Load(cell);
        var greater = Vector256.GreaterThan(v, max);
        max = Select(greater, v, max);
        best = Select(greater, offset.AsSingle(), best.AsSingle()).AsInt32();
    }

    // The mask is a comparison's, all ones or all zeros per lane, so a blend (one instruction) selects alike.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Select(Vector256<float> mask, Vector256<float> yes, Vector256<float> no) =>
        Avx.IsSupported ? Avx.BlendVariable(no, yes, mask) : Vector256.ConditionalSelect(mask, yes, no);

    /// <summary>
    /// One window: cell (kh, kw) of channel ch is values[first + kh·rowStride + kw·c + ch], an index within the sample, for
    /// kh in [khLo, khHi) and kw in [kwLo, kwHi). The first cell in row-major order seeds the maximum and only a strictly
    /// greater value replaces it (ties keep the first); a window with no cell gives 0 and −1.
    /// </summary>
    internal static unsafe void Window(float* values, int first, int rowStride, int khLo, int khHi, int kwLo, int kwHi, int c, float* y, int* argmax)
    {
        if (khLo >= khHi || kwLo >= kwHi)
        {
            new Span<float>(y, c).Clear();
            if (argmax != null)
            {
                new Span<int>(argmax, c).Fill(-1);
            }
            return;
        }
        var seed = first + khLo * rowStride + kwLo * c;
        var ch = 0;
        for (; ch <= c - Vector256<float>.Count; ch += Vector256<float>.Count)
        {
            var max = Vector256.Load(values + seed + ch);
            var at = Vector256.Create(seed + ch) + Vector256<int>.Indices;
            for (var kh = khLo; kh < khHi; kh++)
            {
                for (var kw = kh == khLo ? kwLo + 1 : kwLo; kw < kwHi; kw++)
                {
                    var cell = first + kh * rowStride + kw * c + ch;
                    var v = Vector256.Load(values + cell);
                    var greater = Vector256.GreaterThan(v, max);
                    max = Vector256.ConditionalSelect(greater, v, max);
                    at = Vector256.ConditionalSelect(greater.AsInt32(), Vector256.Create(cell) + Vector256<int>.Indices, at);
                }
            }
            max.Store(y + ch);
            if (argmax != null)
            {
                at.Store(argmax + ch);
            }
        }
        for (; ch < c; ch++)
        {
            var (max, at) = (values[seed + ch], seed + ch);
            for (var kh = khLo; kh < khHi; kh++)
            {
                for (var kw = kh == khLo ? kwLo + 1 : kwLo; kw < kwHi; kw++)
                {
                    var cell = first + kh * rowStride + kw * c + ch;
                    if (values[cell] > max)
                    {
                        (max, at) = (values[cell], cell);
                    }
                }
            }
            y[ch] = max;
            if (argmax != null)
            {
                argmax[ch] = at;
            }
        }
    }

    /// <summary>
    /// dx zeroed, then dx[b, argmax] += dy for every output in row-major order, so overlapping windows accumulate in a
    /// fixed order (the CUDA gather sums in the same order). Outputs with argmax −1 contribute nothing. Samples run in
    /// parallel, each clearing its own part of dx just before filling it.
    /// </summary>
    public static unsafe void Backward(ReadOnlySpan<float> dy, ReadOnlySpan<int> argmax, Span<float> dx, int batch, in PoolGeometry g)
    {
        CheckShapes(batch, g, dx.Length, nameof(dx), dy.Length, nameof(dy));
        Check.Length(argmax.Length, dy.Length, nameof(argmax));
        fixed (float* pdy = dy, pdx = dx)
        fixed (int* pargmax = argmax)
        {
            var job = new ForwardJob(pdx, pdy, pargmax, batch, g);
            Workers.Run(&BackwardPart, &job, Workers.PartsFor((long)batch * g.InSize, 1 << 15));
        }
    }

    // Samples [lo, hi); job.X is dx, job.Y is dy. An index outside the sample throws (the span checks it).
    private static unsafe void BackwardPart(void* state, int part, int parts)
    {
        ref readonly var job = ref *(ForwardJob*)state;
        var g = job.Geometry;
        var (lo, hi) = Gemm.Range(job.Batch, 1, part, parts);
        for (var b = lo; b < hi; b++)
        {
            var dxs = new Span<float>(job.X + (long)b * g.InSize, g.InSize);
            dxs.Clear();
            var o = (long)b * g.OutSize;
            for (var i = 0; i < g.OutSize; i++)
            {
                var at = job.Argmax[o + i];
                if (at >= 0)
                {
                    dxs[at] += job.Y[o + i];
                }
            }
        }
    }

    // Forward: x → y. Backward: X holds dx, Y holds dy.
    private readonly unsafe struct ForwardJob(float* x, float* y, int* argmax, int batch, PoolGeometry geometry)
    {
        public readonly float* X = x, Y = y;
        public readonly int* Argmax = argmax;
        public readonly int Batch = batch;
        public readonly PoolGeometry Geometry = geometry;
    }

    private static void CheckShapes(int batch, in PoolGeometry g, int inLength, string inName, int outLength, string outName)
    {
        Check.Positive(batch, nameof(batch));
        g.Validate();
        Check.Length(inLength, (long)batch * g.InSize, inName);
        Check.Length(outLength, (long)batch * g.OutSize, outName);
    }
}

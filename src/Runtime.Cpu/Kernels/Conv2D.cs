namespace Kiln.Runtime.Cpu;

/// <summary>
/// 2-D convolution as im2col + <see cref="Gemm"/>; mirror of Runtime.Cuda/Kernels/conv2d.cu. x [batch, InH, InW, InC],
/// w [K, K, InC, OutC] (Keras layout), bias [OutC], y [batch, OutH, OutW, OutC].
/// </summary>
/// <remarks>
/// The im2col matrix has one row per output pixel (b, oh, ow) and one column per (kh, kw, ic), so its product with w
/// viewed as [K·K·InC, OutC] lands in NHWC directly. Rows are processed in chunks of at most
/// <see cref="ScratchFloats"/> / (K·K·InC) (at least one row), which bounds the scratch whatever the batch.
/// </remarks>
public static class Conv2D
{
    /// <summary>Target size of the im2col scratch in floats (2 MiB); one row is always allowed even if larger.</summary>
    public const int ScratchFloats = 1 << 19;

    /// <summary>
    /// Floats of scratch that <see cref="Forward"/>, <see cref="BackwardData"/> and <see cref="BackwardWeights"/> need for
    /// <paramref name="batch"/> samples. Non-decreasing in the batch, so a buffer sized for the largest batch serves all.
    /// </summary>
    public static int ScratchSize(int batch, in ConvGeometry g)
    {
        Check.Positive(batch, nameof(batch));
        g.Validate();
        return ChunkRows(batch, g) * g.PatchSize;
    }

    /// <summary>y = act(conv(x, w) + bias).</summary>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, int batch, in ConvGeometry g, Epilogue act, Span<float> scratch)
    {
        CheckShapes(batch, g, x.Length, nameof(x), w.Length, nameof(w), y.Length, nameof(y), scratch.Length);
        Check.Length(bias.Length, g.OutC, nameof(bias));
        var patch = g.PatchSize;
        var total = batch * g.OutH * g.OutW;
        var chunk = ChunkRows(batch, g);
        for (var r0 = 0; r0 < total; r0 += chunk)
        {
            var rows = Math.Min(chunk, total - r0);
            var cols = scratch[..(rows * patch)];
            Im2Col(x, cols, r0, rows, g);
            var yc = y.Slice(r0 * g.OutC, rows * g.OutC);
            Gemm.Multiply(rows, g.OutC, patch, cols, patch, w, g.OutC, yc, g.OutC);
            Activations.BiasForward(yc, bias, act);
        }
    }

    /// <summary>dx = the transpose convolution of dz with w: dcols = dz·wᵀ, then col2im sums each patch back. dx overwritten.</summary>
    public static void BackwardData(ReadOnlySpan<float> dz, ReadOnlySpan<float> w, Span<float> dx, int batch, in ConvGeometry g, Span<float> scratch)
    {
        CheckShapes(batch, g, dx.Length, nameof(dx), w.Length, nameof(w), dz.Length, nameof(dz), scratch.Length);
        var patch = g.PatchSize;
        var total = batch * g.OutH * g.OutW;
        var chunk = ChunkRows(batch, g);
        dx.Clear();
        for (var r0 = 0; r0 < total; r0 += chunk)
        {
            var rows = Math.Min(chunk, total - r0);
            var cols = scratch[..(rows * patch)];
            Gemm.MultiplyTransposeB(rows, patch, g.OutC, dz.Slice(r0 * g.OutC, rows * g.OutC), g.OutC, w, g.OutC, cols, patch);
            Col2Im(cols, dx, r0, rows, g);
        }
    }

    /// <summary>dw = im2col(x)ᵀ·dz, summed over chunks in ascending order; db[o] = Σ over all output pixels of dz. Both overwritten.</summary>
    public static void BackwardWeights(ReadOnlySpan<float> x, ReadOnlySpan<float> dz, Span<float> dw, Span<float> db, int batch, in ConvGeometry g, Span<float> scratch)
    {
        CheckShapes(batch, g, x.Length, nameof(x), dw.Length, nameof(dw), dz.Length, nameof(dz), scratch.Length);
        Check.Length(db.Length, g.OutC, nameof(db));
        var patch = g.PatchSize;
        var total = batch * g.OutH * g.OutW;
        var chunk = ChunkRows(batch, g);
        for (var r0 = 0; r0 < total; r0 += chunk)
        {
            var rows = Math.Min(chunk, total - r0);
            var cols = scratch[..(rows * patch)];
            Im2Col(x, cols, r0, rows, g);
            Gemm.MultiplyTransposeA(patch, g.OutC, rows, cols, patch, dz.Slice(r0 * g.OutC, rows * g.OutC), g.OutC, dw, g.OutC, accumulate: r0 > 0);
        }
        Activations.BiasBackward(dz, db);
    }

    private static int ChunkRows(int batch, in ConvGeometry g) =>
        (int)Math.Min((long)batch * g.OutH * g.OutW, Math.Max(1, ScratchFloats / g.PatchSize));

    // Rows r0 .. r0+rows-1 of the im2col matrix: row (b, oh, ow) holds x[b, oh·S + kh − PadTop, ow·S + kw − PadLeft, ic]
    // at column (kh·K + kw)·InC + ic, zero where that falls in the padding.
    private static void Im2Col(ReadOnlySpan<float> x, Span<float> cols, int r0, int rows, in ConvGeometry g)
    {
        var k = g.Kernel;
        var inC = g.InC;
        var patch = g.PatchSize;
        var pixels = g.OutH * g.OutW;
        for (var r = 0; r < rows; r++)
        {
            var (b, pixel) = Math.DivRem(r0 + r, pixels);
            var (oh, ow) = Math.DivRem(pixel, g.OutW);
            var row = cols.Slice(r * patch, patch);
            var (kwLo, kwHi, iw0) = ColumnRange(ow, g);
            for (var kh = 0; kh < k; kh++)
            {
                var dst = row.Slice(kh * k * inC, k * inC);
                var ih = oh * g.Stride + kh - g.PadTop;
                if (ih < 0 || ih >= g.InH || kwLo >= kwHi)
                {
                    dst.Clear();
                    continue;
                }
                // The in-bounds kw run is contiguous in NHWC: copy it in one go, zero the padded ends.
                dst[..(kwLo * inC)].Clear();
                x.Slice(((b * g.InH + ih) * g.InW + iw0 + kwLo) * inC, (kwHi - kwLo) * inC).CopyTo(dst[(kwLo * inC)..]);
                dst[(kwHi * inC)..].Clear();
            }
        }
    }

    // The adjoint of Im2Col: adds each row's columns back to the input pixels they were read from, rows ascending.
    private static void Col2Im(ReadOnlySpan<float> cols, Span<float> dx, int r0, int rows, in ConvGeometry g)
    {
        var k = g.Kernel;
        var inC = g.InC;
        var patch = g.PatchSize;
        var pixels = g.OutH * g.OutW;
        for (var r = 0; r < rows; r++)
        {
            var (b, pixel) = Math.DivRem(r0 + r, pixels);
            var (oh, ow) = Math.DivRem(pixel, g.OutW);
            var row = cols.Slice(r * patch, patch);
            var (kwLo, kwHi, iw0) = ColumnRange(ow, g);
            for (var kh = 0; kh < k; kh++)
            {
                var ih = oh * g.Stride + kh - g.PadTop;
                if (ih < 0 || ih >= g.InH || kwLo >= kwHi)
                {
                    continue;
                }
                var src = row.Slice((kh * k + kwLo) * inC, (kwHi - kwLo) * inC);
                var dst = dx.Slice(((b * g.InH + ih) * g.InW + iw0 + kwLo) * inC, src.Length);
                for (var i = 0; i < src.Length; i++)
                {
                    dst[i] += src[i];
                }
            }
        }
    }

    // The kw range [lo, hi) whose input column iw0 + kw lies inside the image, with iw0 = ow·S − PadLeft.
    private static (int Lo, int Hi, int Iw0) ColumnRange(int ow, in ConvGeometry g)
    {
        var iw0 = ow * g.Stride - g.PadLeft;
        var lo = Math.Clamp(-iw0, 0, g.Kernel);
        var hi = Math.Clamp(g.InW - iw0, 0, g.Kernel);
        return (lo, hi, iw0);
    }

    private static void CheckShapes(int batch, in ConvGeometry g, int inLength, string inName, int wLength, string wName, int outLength, string outName, int scratchLength)
    {
        Check.Positive(batch, nameof(batch));
        g.Validate();
        Check.Length(inLength, (long)batch * g.InSize, inName);
        Check.Length(wLength, (long)g.PatchSize * g.OutC, wName);
        Check.Length(outLength, (long)batch * g.OutSize, outName);
        Check.AtLeast(scratchLength, (long)ChunkRows(batch, g) * g.PatchSize, "scratch");
    }
}

namespace Kiln.Runtime.Cpu;

/// <summary>
/// 2-D convolution as an implicit GEMM; mirror of Runtime.Cuda/Kernels/conv2d.cu. x [batch, InH, InW, InC],
/// w [K, K, InC, OutC] (Keras layout), bias [OutC], y [batch, OutH, OutW, OutC].
/// </summary>
/// <remarks>
/// <para>The product is the im2col one (a row per output pixel, a column per (kh, kw, ic), times w viewed as
/// [K·K·InC, OutC]) but the im2col matrix is never written: the input is copied once into a zero-padded buffer, in
/// chunks of whole samples of at most <see cref="ScratchFloats"/> floats, and the micro-kernel reads each patch row
/// straight from it (<see cref="ImplicitGemm"/>). For stride 1, <see cref="BackwardData(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, in ConvGeometry, Span{float})"/> is the same forward
/// product on the padded dz with the kernel flipped and transposed, so no col2im is needed either; other strides use
/// dz·wᵀ and col2im.</para>
/// <para>5×5 stride-1 convolutions with whole vectors of channels run forward as Winograd F(4×4, 5×5) instead
/// (<see cref="Winograd"/>: 6.25× fewer multiplies, less what the last tiles spend outside the output). When a max
/// pool follows, the weight gradient reads the pooled gradient as sparse lists (<see cref="PooledGradient"/>), and the
/// data gradient reads the pool's tensors (<see cref="BackwardDataThroughPool"/>: Winograd again for those same
/// convolutions under 2×2 windows).</para>
/// <para>Determinism: every output element is computed by a fixed sequence of operations (for the implicit GEMM one
/// chain of fused multiply-adds in (kh, kw, ic) order; weight gradients are summed over the output pixels in ascending
/// order in <see cref="Gemm.KC"/>-row slices), whatever the number of threads.</para>
/// </remarks>
public static partial class Conv2D
{
    /// <summary>Target size of one padded chunk (and of the col2im scratch) in floats (2 MiB); one sample is always allowed.</summary>
    public const int ScratchFloats = 1 << 19;

    /// <summary>
    /// Floats of scratch that <see cref="Forward"/>, both overloads of <see cref="BackwardData(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, in ConvGeometry, Span{float})"/> and <see cref="BackwardWeights(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float}, int, in ConvGeometry, Span{float})"/> need for
    /// <paramref name="batch"/> samples. Non-decreasing in the batch, so a buffer sized for the largest batch serves all.
    /// </summary>
    public static int ScratchSize(int batch, in ConvGeometry g)
    {
        Check.Positive(batch, nameof(batch));
        g.Validate();
        var forward = ImplicitGemm.ForForward(g).ScratchSize(batch);
        var backward = ImplicitGemm.ForBackwardData(g) is { } transposed ? transposed.ScratchSize(batch) : ChunkRows(batch, g) * g.PatchSize;
        var sparse = ImplicitGemm.ForForward(g).SparseScratchSize(batch);
        var winograd = Math.Max(Winograd.For(g)?.ScratchSize(batch) ?? 0, Winograd.ForBackwardData(g)?.DataScratchSize(batch) ?? 0);
        return Math.Max(Math.Max(forward, backward), Math.Max(sparse, winograd));
    }

    /// <summary>y = act(conv(x, w) + bias). <paramref name="transformed"/>, where given, keeps the Winograd transform of w between calls.</summary>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, int batch, in ConvGeometry g, Epilogue act, Span<float> scratch, TransformedKernel? transformed = null)
    {
        CheckShapes(batch, g, x.Length, nameof(x), w.Length, nameof(w), y.Length, nameof(y), scratch.Length);
        Check.Length(bias.Length, g.OutC, nameof(bias));
        if (Winograd.For(g) is { } winograd)
        {
            winograd.Convolve(x, w, bias, act, y, batch, g, scratch, transformed);
        }
        else
        {
            ImplicitGemm.ForForward(g).Convolve(x, w, transposed: false, bias, act == Epilogue.Relu, y, batch, scratch);
        }
        if (act is not (Epilogue.Linear or Epilogue.Relu))
        {
            Activations.Forward(y, act);
        }
    }

    /// <summary>dx = the transpose convolution of dz with w. dx overwritten.</summary>
    public static void BackwardData(ReadOnlySpan<float> dz, ReadOnlySpan<float> w, Span<float> dx, int batch, in ConvGeometry g, Span<float> scratch)
    {
        CheckShapes(batch, g, dx.Length, nameof(dx), w.Length, nameof(w), dz.Length, nameof(dz), scratch.Length);
        if (Winograd.ForBackwardData(g) is { } winograd)
        {
            winograd.BackwardData(dz, w, dx, batch, g, scratch);
            return;
        }
        if (ImplicitGemm.ForBackwardData(g) is { } transposed)
        {
            transposed.Convolve(dz, w, transposed: true, bias: default, relu: false, dx, batch, scratch);
            return;
        }
        // Strided: dcols = dz·wᵀ, then col2im sums each patch back.
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

    /// <summary>dw = im2col(x)ᵀ·dz, summed over output pixels in ascending order; db[o] = Σ over all output pixels of dz. Both overwritten.</summary>
    public static void BackwardWeights(ReadOnlySpan<float> x, ReadOnlySpan<float> dz, Span<float> dw, Span<float> db, int batch, in ConvGeometry g, Span<float> scratch)
    {
        CheckShapes(batch, g, x.Length, nameof(x), dw.Length, nameof(dw), dz.Length, nameof(dz), scratch.Length);
        Check.Length(db.Length, g.OutC, nameof(db));
        ImplicitGemm.ForForward(g).WeightGradient(x, dz, dw, batch, scratch);
        Activations.BiasBackward(dz, db);
    }

    private static int ChunkRows(int batch, in ConvGeometry g) =>
        (int)Math.Min((long)batch * g.OutH * g.OutW, Math.Max(1, ScratchFloats / g.PatchSize));

    // The adjoint of im2col: adds each row's columns back to the input pixels they were read from, rows ascending.
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
            var iw0 = ow * g.Stride - g.PadLeft;
            var kwLo = Math.Clamp(-iw0, 0, k);
            var kwHi = Math.Clamp(g.InW - iw0, 0, k);
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

    private static void CheckShapes(int batch, in ConvGeometry g, int inLength, string inName, int wLength, string wName, int outLength, string outName, int scratchLength)
    {
        Check.Positive(batch, nameof(batch));
        g.Validate();
        Check.Length(inLength, (long)batch * g.InSize, inName);
        Check.Length(wLength, (long)g.PatchSize * g.OutC, wName);
        Check.Length(outLength, (long)batch * g.OutSize, outName);
        Check.AtLeast(scratchLength, ScratchSize(batch, g), "scratch");
    }
}

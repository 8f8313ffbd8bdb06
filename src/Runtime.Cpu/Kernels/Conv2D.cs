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
/// <para>Which of these runs is decided in one place, <see cref="Conv2DPlan.Choose"/>: a network holds a
/// <see cref="Conv2DPlan"/> per convolution; the static entry points here (for callers without a plan: tests, image
/// filters) ask the same method on every call, and the <c>*By</c> runners execute a given path.</para>
/// <para>Determinism: every output element is computed by a fixed sequence of operations (for the implicit GEMM one
/// chain of fused multiply-adds in (kh, kw, ic) order; weight gradients are summed over the output pixels in ascending
/// order in <see cref="Gemm.KC"/>-row slices), whatever the number of threads.</para>
/// <para>Every member is static and stateless: calls on distinct buffers may run concurrently.</para>
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
        var paths = Conv2DPlan.Choose(g, null, dataGradient: true, batch);
        return Math.Max(Math.Max(ForwardScratch(paths.Forward, batch, g), DataScratch(paths.Data, batch, g, default)),
            Math.Max(Math.Max(WeightScratch(paths.Weights, batch, g), WeightScratch(Conv2DWeightPath.ImplicitGemm, batch, g)), WeightScratch(Conv2DWeightPath.SparseLists, batch, g)));
    }

    /// <summary>y = act(conv(x, w) + bias). <paramref name="transformed"/>, where given, keeps the Winograd transform of w between calls.</summary>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, int batch, in ConvGeometry g, Epilogue act, Span<float> scratch, TransformedKernel? transformed = null)
    {
        CheckShapes(batch, g, x.Length, nameof(x), w.Length, nameof(w), y.Length, nameof(y), scratch.Length);
        Check.Length(bias.Length, g.OutC, nameof(bias));
        ForwardBy(Conv2DPlan.Choose(g, null, dataGradient: false, batch).Forward, x, w, bias, y, batch, g, act, scratch, transformed);
    }

    /// <summary>dx = the transpose convolution of dz with w. dx overwritten.</summary>
    public static void BackwardData(ReadOnlySpan<float> dz, ReadOnlySpan<float> w, Span<float> dx, int batch, in ConvGeometry g, Span<float> scratch)
    {
        CheckShapes(batch, g, dx.Length, nameof(dx), w.Length, nameof(w), dz.Length, nameof(dz), scratch.Length);
        BackwardDataBy(Conv2DPlan.Choose(g, null, dataGradient: true, batch).Data, dz, w, dx, batch, g, scratch);
    }

    /// <summary>dw = im2col(x)ᵀ·dz, summed over output pixels in ascending order; db[o] = Σ over all output pixels of dz. Both overwritten.</summary>
    public static void BackwardWeights(ReadOnlySpan<float> x, ReadOnlySpan<float> dz, Span<float> dw, Span<float> db, int batch, in ConvGeometry g, Span<float> scratch)
    {
        CheckShapes(batch, g, x.Length, nameof(x), dw.Length, nameof(dw), dz.Length, nameof(dz), scratch.Length);
        Check.Length(db.Length, g.OutC, nameof(db));
        WeightsDense(Conv2DPlan.Choose(g, null, dataGradient: false, batch).Weights, x, dz, dw, db, batch, g, scratch);
    }

    /// <summary>Whether <paramref name="path"/> can run convolution <paramref name="g"/> (under <paramref name="pool"/>, where given, for the fused and through-pool paths).</summary>
    internal static bool Serves(Conv2DForwardPath path, in ConvGeometry g, PoolGeometry? pool) => path switch
    {
        Conv2DForwardPath.ImplicitGemm => true,
        Conv2DForwardPath.Winograd => Winograd.For(g) is not null && (pool is not { } p || Winograd.Pools(p)),
        _ => false,
    };

    /// <inheritdoc cref="Serves(Conv2DForwardPath, in ConvGeometry, PoolGeometry?)"/>
    internal static bool Serves(Conv2DDataPath path, in ConvGeometry g, PoolGeometry? pool) => path switch
    {
        Conv2DDataPath.None => true,
        Conv2DDataPath.Winograd => pool is null && Winograd.ForBackwardData(g) is not null,
        Conv2DDataPath.TransposedGemm => pool is null && ImplicitGemm.ForBackwardData(g) is not null,
        Conv2DDataPath.Col2Im => pool is null,
        Conv2DDataPath.SparseGather => pool is not null,
        Conv2DDataPath.WinogradThroughPool => pool is { } p && p.Stride == p.Pool && Winograd.ForBackwardData(g, p) is not null,
        _ => false,
    };

    /// <summary>Whether weight-gradient path <paramref name="path"/> can run convolution <paramref name="g"/> over a dense dz.</summary>
    internal static bool Serves(Conv2DWeightPath path, in ConvGeometry g) => path switch
    {
        Conv2DWeightPath.ImplicitGemm => true,
        Conv2DWeightPath.Winograd => Winograd.For(g) is not null,
        Conv2DWeightPath.Direct => DirectWeights.For(g) is not null,
        _ => false,
    };

    /// <summary>Floats of scratch forward path <paramref name="path"/> needs (fused with <paramref name="pool"/> where given).</summary>
    internal static int ForwardScratch(Conv2DForwardPath path, int batch, in ConvGeometry g, PoolGeometry? pool = null)
    {
        var gemm = ImplicitGemm.ForForward(g);
        return (path, pool) switch
        {
            (Conv2DForwardPath.Winograd, _) => Winograd.For(g)!.Value.ScratchSize(batch),
            (_, { } p) => gemm.ScratchSize(batch) + ImplicitGemm.Alignment + Workers.Count * gemm.BandFloats(p),
            _ => gemm.ScratchSize(batch),
        };
    }

    /// <summary>Floats of scratch data-gradient path <paramref name="path"/> needs.</summary>
    internal static int DataScratch(Conv2DDataPath path, int batch, in ConvGeometry g, in PoolGeometry pool) => path switch
    {
        Conv2DDataPath.Winograd => Winograd.ForBackwardData(g)!.Value.DataScratchSize(batch),
        Conv2DDataPath.TransposedGemm => ImplicitGemm.ForBackwardData(g)!.Value.ScratchSize(batch),
        Conv2DDataPath.Col2Im => ChunkRows(batch, g) * g.PatchSize,
        Conv2DDataPath.SparseGather => ImplicitGemm.ForForward(g).SparseScratchSize(batch),
        Conv2DDataPath.WinogradThroughPool => Winograd.ForBackwardData(g, pool)!.Value.DataScratchSize(batch),
        _ => 0,
    };

    /// <summary>Floats of scratch weight-gradient path <paramref name="path"/> needs.</summary>
    internal static int WeightScratch(Conv2DWeightPath path, int batch, in ConvGeometry g) => path switch
    {
        Conv2DWeightPath.Winograd => Winograd.For(g)!.Value.WeightScratchSize,
        Conv2DWeightPath.Direct => DirectWeights.For(g)!.Value.ScratchSize(batch),
        Conv2DWeightPath.ImplicitGemm => ImplicitGemm.ForForward(g).ScratchSize(batch),
        _ => ImplicitGemm.ForForward(g).SparseScratchSize(batch),
    };

    /// <summary>Runs forward path <paramref name="path"/>; shapes and scratch already checked.</summary>
    internal static void ForwardBy(Conv2DForwardPath path, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, int batch, in ConvGeometry g, Epilogue act, Span<float> scratch, TransformedKernel? transformed)
    {
        if (path == Conv2DForwardPath.Winograd)
        {
            Winograd.For(g)!.Value.Convolve(x, w, bias, act, y, batch, g, scratch, transformed);
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

    /// <summary>Runs data-gradient path <paramref name="path"/> on a dense dz; shapes and scratch already checked.</summary>
    internal static void BackwardDataBy(Conv2DDataPath path, ReadOnlySpan<float> dz, ReadOnlySpan<float> w, Span<float> dx, int batch, in ConvGeometry g, Span<float> scratch)
    {
        if (path == Conv2DDataPath.Winograd)
        {
            Winograd.ForBackwardData(g)!.Value.BackwardData(dz, w, dx, batch, g, scratch);
            return;
        }
        if (path == Conv2DDataPath.TransposedGemm)
        {
            ImplicitGemm.ForBackwardData(g)!.Value.Convolve(dz, w, transposed: true, bias: default, relu: false, dx, batch, scratch);
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

    /// <summary>The weight gradient from a dense dz by <paramref name="path"/> (Winograd or the implicit GEMM); shapes and scratch already checked.</summary>
    internal static void WeightsDense(Conv2DWeightPath path, ReadOnlySpan<float> x, ReadOnlySpan<float> dz, Span<float> dw, Span<float> db, int batch, in ConvGeometry g, Span<float> scratch)
    {
        if (path == Conv2DWeightPath.Winograd)
        {
            Winograd.For(g)!.Value.WeightGradient(x, dz, dw, batch, scratch);
        }
        else if (path == Conv2DWeightPath.Direct)
        {
            DirectWeights.For(g)!.Value.WeightGradient(x, dz, dw, batch, scratch);
        }
        else
        {
            ImplicitGemm.ForForward(g).WeightGradient(x, dz, dw, batch, scratch);
        }
        if (!db.IsEmpty)
        {
            Activations.BiasBackward(dz, db);
        }
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

    private static void CheckShapes(int batch, in ConvGeometry g, int inLength, string inName, int wLength, string wName, int outLength, string outName, int scratchLength) =>
        CheckShapes(batch, g, inLength, inName, wLength, wName, outLength, outName, scratchLength, ScratchSize(batch, g));

    internal static void CheckShapes(int batch, in ConvGeometry g, int inLength, string inName, int wLength, string wName, int outLength, string outName, int scratchLength, int scratchNeeded)
    {
        Check.Positive(batch, nameof(batch));
        g.Validate();
        Check.Length(inLength, (long)batch * g.InSize, inName);
        Check.Length(wLength, (long)g.PatchSize * g.OutC, wName);
        Check.Length(outLength, (long)batch * g.OutSize, outName);
        Check.AtLeast(scratchLength, scratchNeeded, "scratch");
    }
}

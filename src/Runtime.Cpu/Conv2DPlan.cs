using System.Globalization;

namespace Kiln.Runtime.Cpu;

/// <summary>
/// One convolution layer on the CPU, for batches of up to <see cref="Batch"/> samples: which algorithm runs its
/// forward pass, its data gradient and its weight gradient (chosen once, by <see cref="Choose"/>), the scratch they
/// need (<see cref="ScratchSize"/>), and the passes themselves. The generated executor makes one per convolution
/// when it sizes its buffers for a batch, and the static <see cref="Conv2D"/> entry points ask the same
/// <see cref="Choose"/> on every call, so a path is decided in one place.
/// </summary>
/// <remarks>
/// <para>Given a max pool (the layer after the convolution), the plan backpropagates through it: its passes read the
/// pool's gradient, output and argmax, and the activation's derivative is taken from the pool's output, so the
/// activation must be one whose derivative its output gives (not Gelu or Swish). With non-overlapping windows the
/// forward pass is fused with the pool (<see cref="ForwardPooled"/>) and the convolution's output is never stored.</para>
/// <para>Same inputs, same paths, same bits: the choice is a function of the constructor's arguments only, and every
/// path computes each output by a fixed sequence of operations whatever the number of threads. A batch smaller than
/// <see cref="Batch"/> (an epoch's last) runs the same paths.</para>
/// <para>Not thread-safe: the plan keeps the kernel's Winograd transform between calls and, where the weight
/// gradient stores them, the gradient lists; one plan per convolution layer of one executor, calls one at a time.</para>
/// </remarks>
public sealed class Conv2DPlan
{
    private readonly TransformedKernel? _transformed;
    private readonly PooledGradient? _lists;

    /// <summary>Chooses the paths of convolution <paramref name="geometry"/> under <paramref name="pool"/> (null: no max pool reads its output).</summary>
    /// <param name="geometry">The convolution.</param>
    /// <param name="pool">The max pool that reads the convolution's output, or null.</param>
    /// <param name="activation">The activation fused into the convolution (Linear when the layer applies it separately).</param>
    /// <param name="batch">The largest batch the plan runs.</param>
    /// <param name="dataGradient">Whether <see cref="Backward"/> and <see cref="BackwardThroughPool"/> compute dx (false for the first trainable layer).</param>
    public Conv2DPlan(in ConvGeometry geometry, PoolGeometry? pool, Epilogue activation, int batch, bool dataGradient = true)
    {
        Check.Positive(batch, nameof(batch));
        geometry.Validate();
        Activations.CheckDefined(activation, nameof(activation));
        if (pool is { } p)
        {
            p.Validate();
            if (p.InH != geometry.OutH || p.InW != geometry.OutW || p.Channels != geometry.OutC)
            {
                throw new ArgumentException($"The pool reads {p.InH}×{p.InW}×{p.Channels} but the convolution writes {geometry.OutH}×{geometry.OutW}×{geometry.OutC}.", nameof(pool));
            }
            // Keras' same and valid pools never have more windows than pixels; the sparse lists are sized on that.
            if (p.OutH * p.OutW > geometry.OutH * geometry.OutW)
            {
                throw new ArgumentException($"The pool has {p.OutH * p.OutW} windows per channel, more than the {geometry.OutH * geometry.OutW} pixels they read; the sparse gradient needs at most one window per pixel.", nameof(pool));
            }
            Activations.RefuseInputDerivative(activation, nameof(activation));
        }
        (Geometry, Pool, Activation, Batch) = (geometry, pool, activation, batch);
        PoolsInForward = pool is { } q && q.Stride == q.Pool;
        (ForwardPath, DataPath, WeightPath) = Choose(geometry, pool, dataGradient, batch);
        ScratchSize = Math.Max(
            Conv2D.ForwardScratch(ForwardPath, batch, geometry, PoolsInForward ? pool : null),
            Math.Max(Conv2D.DataScratch(DataPath, batch, geometry, pool.GetValueOrDefault()), Conv2D.WeightScratch(WeightPath, batch, geometry)));
        _transformed = ForwardPath == Conv2DForwardPath.Winograd ? new TransformedKernel() : null;
        _lists = WeightPath == Conv2DWeightPath.SparseLists ? new PooledGradient(batch, pool.GetValueOrDefault()) : null;
    }

    /// <summary>The convolution.</summary>
    public ConvGeometry Geometry { get; }

    /// <summary>The max pool that reads its output, or null.</summary>
    public PoolGeometry? Pool { get; }

    /// <summary>The activation fused into the convolution's epilogue.</summary>
    public Epilogue Activation { get; }

    /// <summary>The largest batch the plan runs; its scratch and lists are sized for it.</summary>
    public int Batch { get; }

    /// <summary>Whether the forward pass is fused with the pool (non-overlapping windows): call <see cref="ForwardPooled"/>, not <see cref="Forward"/>.</summary>
    public bool PoolsInForward { get; }

    /// <summary>How the forward pass runs.</summary>
    public Conv2DForwardPath ForwardPath { get; }

    /// <summary>How the data gradient runs (<see cref="Conv2DDataPath.None"/>: not computed).</summary>
    public Conv2DDataPath DataPath { get; }

    /// <summary>How the weight gradient runs.</summary>
    public Conv2DWeightPath WeightPath { get; }

    /// <summary>Floats of scratch every pass of this plan needs, for any batch up to <see cref="Batch"/>.</summary>
    public int ScratchSize { get; }

    /// <summary>
    /// The one decision of a convolution's CPU paths. <paramref name="batch"/> is an input so that measured thresholds
    /// can enter here; no rule uses it yet, because every fast path below wins from one image up (docs/BENCHMARKS.md).
    /// <list type="bullet">
    /// <item>Forward: Winograd wherever it serves (stride 1, channel counts in vectors of 8, FMA; fused with a pool only
    /// for 2×2 windows on the tile grid): F(4×4, 5×5) for 5×5 kernels, 64 multiplies per tile and channel pair instead
    /// of 400; F(6×6, 3×3) for 3×3 kernels from 16 channels where at least half the tiles' outputs lie inside the
    /// output (the measured threshold, in <c>Conv2D.Winograd3.cs</c>). Otherwise the implicit GEMM.</item>
    /// <item>Data gradient, none unless asked. Under a pool with non-overlapping windows: Winograd on the pool's gradient
    /// where it would serve dz (2.2 against 2.9 ms for the sparse gather, MNIST's second convolution at batch 128), else the
    /// sparse gather, both reading the pool's tensors. Under overlapping windows: the sparse gather from the stored
    /// lists. Without a pool: Winograd of dz where the forward Winograd serves the transposed convolution, else the
    /// transposed implicit GEMM for stride 1 (padding below the kernel), else col2im.</item>
    /// <item>Weight gradient: without a pool, Winograd where the forward Winograd serves (1.1–2.8× the implicit GEMM at
    /// batch 128; under a pool it measured 0.6–1.3× the sparse lists, which stay), else the implicit GEMM. Under a pool, the sparse lists (work proportional to
    /// the windows, a quarter of the pixels under 2×2): filled in cache and never stored when nothing else reads them
    /// (non-overlapping windows, no data gradient), else stored once for both passes.</item>
    /// </list>
    /// </summary>
    public static Conv2DPaths Choose(in ConvGeometry g, PoolGeometry? pool, bool dataGradient, int batch)
    {
        Check.Positive(batch, nameof(batch));
        var fused = pool is { } p && p.Stride == p.Pool;
        var forward = Conv2D.Serves(Conv2DForwardPath.Winograd, g, fused ? pool : null) ? Conv2DForwardPath.Winograd : Conv2DForwardPath.ImplicitGemm;
        var data = !dataGradient ? Conv2DDataPath.None
            : pool is null ? (Conv2D.Serves(Conv2DDataPath.Winograd, g, null) ? Conv2DDataPath.Winograd
                : Conv2D.Serves(Conv2DDataPath.TransposedGemm, g, null) ? Conv2DDataPath.TransposedGemm : Conv2DDataPath.Col2Im)
            : fused && Conv2D.Serves(Conv2DDataPath.WinogradThroughPool, g, pool) ? Conv2DDataPath.WinogradThroughPool
            : Conv2DDataPath.SparseGather;
        var weights = pool is null ? (Conv2D.Serves(Conv2DForwardPath.Winograd, g, null) ? Conv2DWeightPath.Winograd
                : Conv2D.Serves(Conv2DWeightPath.Direct, g) ? Conv2DWeightPath.Direct : Conv2DWeightPath.ImplicitGemm)
            : fused && !dataGradient ? Conv2DWeightPath.SparseThroughPool
            : Conv2DWeightPath.SparseLists;
        return new Conv2DPaths(forward, data, weights);
    }

    /// <summary>One line naming the layer's shapes and the paths chosen, for benchmark logs.</summary>
    public string Describe()
    {
        var g = Geometry;
        var pool = Pool is { } p ? string.Create(CultureInfo.InvariantCulture, $", max pool {p.Pool}×{p.Pool} stride {p.Stride}{(PoolsInForward ? " (fused)" : "")}") : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"Conv2D {g.InH}×{g.InW}×{g.InC} → {g.OutH}×{g.OutW}×{g.OutC}, {g.Kernel}×{g.Kernel} stride {g.Stride}{pool}, batch ≤ {Batch}: forward {ForwardPath}, data gradient {DataPath}, weight gradient {WeightPath}, scratch {ScratchSize} floats");
    }

    /// <summary>y = act(conv(x, w) + bias), for a plan whose pool, if any, runs separately (<see cref="PoolsInForward"/> false).</summary>
    public void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, int batch, Span<float> scratch)
    {
        if (PoolsInForward)
        {
            throw new InvalidOperationException($"This plan fuses the convolution with its pool; call {nameof(ForwardPooled)}.");
        }
        CheckCall(batch, x.Length, nameof(x), w.Length, y.Length, nameof(y), scratch.Length);
        Check.Length(bias.Length, Geometry.OutC, nameof(bias));
        Conv2D.ForwardBy(ForwardPath, x, w, bias, y, batch, Geometry, Activation, scratch, _transformed);
    }

    /// <summary>
    /// y = maxpool(act(conv(x, w) + bias)) and the pool's argmax (empty: not written, for inference), with the
    /// convolution's output never stored; for a plan with <see cref="PoolsInForward"/>.
    /// </summary>
    public void ForwardPooled(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, Span<int> argmax, int batch, Span<float> scratch)
    {
        if (!PoolsInForward || Pool is not { } pool)
        {
            throw new InvalidOperationException($"This plan has no pool with non-overlapping windows to fuse; call {nameof(Forward)}.");
        }
        CheckCall(batch, x.Length, nameof(x), w.Length, batch * Geometry.OutSize, nameof(y), scratch.Length);
        Check.Length(bias.Length, Geometry.OutC, nameof(bias));
        Check.Length(y.Length, (long)batch * pool.OutSize, nameof(y));
        MaxPool2D.CheckArgmax(argmax.Length, y.Length);
        Conv2D.ForwardPooledBy(ForwardPath, x, w, bias, y, argmax, batch, Geometry, Activation, pool, scratch, _transformed);
    }

    /// <summary>
    /// The gradients of a convolution no pool reads, from dz, the gradient of its pre-activation output: dw and db
    /// (overwritten; db empty for a convolution without a bias, which skips its pass over dz), then dx (overwritten;
    /// empty exactly when the plan has no data gradient).
    /// </summary>
    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dz, ReadOnlySpan<float> w, Span<float> dw, Span<float> db, Span<float> dx, int batch, Span<float> scratch)
    {
        if (Pool is not null)
        {
            throw new InvalidOperationException($"A max pool reads this convolution's output; call {nameof(BackwardThroughPool)}.");
        }
        CheckCall(batch, x.Length, nameof(x), w.Length, dz.Length, nameof(dz), scratch.Length);
        CheckGradients(batch, dw.Length, db.IsEmpty ? Geometry.OutC : db.Length, dx.Length);
        Conv2D.WeightsDense(WeightPath, x, dz, dw, db, batch, Geometry, scratch);
        if (DataPath != Conv2DDataPath.None)
        {
            Conv2D.BackwardDataBy(DataPath, dz, w, dx, batch, Geometry, scratch);
        }
    }

    /// <summary>
    /// The gradients of a convolution read by the plan's max pool, from the pool's gradient <paramref name="dy"/>, output
    /// <paramref name="y"/> and <paramref name="argmax"/> (the activation's derivative taken from the output): dw and
    /// db (overwritten), then dx (overwritten; empty exactly when the plan has no data gradient).
    /// </summary>
    public void BackwardThroughPool(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, ReadOnlySpan<float> y, ReadOnlySpan<int> argmax, ReadOnlySpan<float> w, Span<float> dw, Span<float> db, Span<float> dx, int batch, Span<float> scratch)
    {
        if (Pool is not { } pool)
        {
            throw new InvalidOperationException($"No pool reads this convolution's output; call {nameof(Backward)}.");
        }
        CheckCall(batch, x.Length, nameof(x), w.Length, batch * Geometry.OutSize, "the convolution's output", scratch.Length);
        CheckGradients(batch, dw.Length, db.Length, dx.Length);
        Check.Length(dy.Length, (long)batch * pool.OutSize, nameof(dy));
        Check.Length(y.Length, dy.Length, nameof(y));
        Check.Length(argmax.Length, dy.Length, nameof(argmax));
        if (_lists is { } lists)
        {
            MaxPool2D.BackwardToConvolution(dy, y, argmax, Activation, lists, batch, pool);
            Conv2D.WeightsFromLists(x, lists, dw, db, batch, Geometry, scratch);
        }
        else
        {
            Conv2D.WeightsThroughPool(x, dy, y, argmax, Activation, dw, db, batch, Geometry, pool, scratch);
        }
        if (DataPath == Conv2DDataPath.None)
        {
            return;
        }
        if (PoolsInForward)
        {
            Conv2D.BackwardDataThroughPoolBy(DataPath, dy, y, argmax, Activation, w, dx, batch, Geometry, pool, scratch);
        }
        else
        {
            Conv2D.DataFromLists(_lists!, w, dx, batch, Geometry, scratch);
        }
    }

    private void CheckCall(int batch, int inLength, string inName, int wLength, int outLength, string outName, int scratchLength)
    {
        if (batch > Batch)
        {
            throw new ArgumentOutOfRangeException(nameof(batch), batch, $"This plan was made for batches of up to {Batch} samples.");
        }
        Conv2D.CheckShapes(batch, Geometry, inLength, inName, wLength, "w", outLength, outName, scratchLength, ScratchSize);
    }

    private void CheckGradients(int batch, int dwLength, int dbLength, int dxLength)
    {
        Check.Length(dwLength, (long)Geometry.PatchSize * Geometry.OutC, "dw");
        Check.Length(dbLength, Geometry.OutC, "db");
        Check.Length(dxLength, DataPath == Conv2DDataPath.None ? 0 : (long)batch * Geometry.InSize, "dx");
    }
}

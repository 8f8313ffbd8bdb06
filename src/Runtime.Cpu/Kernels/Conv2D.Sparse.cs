using System.Runtime.Intrinsics;

namespace Kiln.Runtime.Cpu;

public static partial class Conv2D
{
    /// <summary>
    /// dw and db as the dense <see cref="BackwardWeights(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float}, int, in ConvGeometry, Span{float})"/>,
    /// from a pooled dz: each entry adds value·patch to its channel's column of dw, so the work is proportional to the
    /// entries (a quarter of the pixels or fewer under 2×2 pooling), not to the pixels.
    /// </summary>
    /// <remarks>Each weight gradient is one chain of fused multiply-adds over samples ascending, then entries in list order.</remarks>
    public static void BackwardWeights(ReadOnlySpan<float> x, PooledGradient dz, Span<float> dw, Span<float> db, int batch, in ConvGeometry g, Span<float> scratch)
    {
        ArgumentNullException.ThrowIfNull(dz);
        CheckShapes(batch, g, x.Length, nameof(x), dw.Length, nameof(dw), batch * g.OutSize, nameof(dz), scratch.Length);
        Check.Length(db.Length, g.OutC, nameof(db));
        dz.CheckFor(batch, g.OutH, g.OutW, g.OutC, nameof(dz));
        WeightsFromLists(x, dz, dw, db, batch, g, scratch);
    }

    /// <summary>
    /// dw and db from the max pool that reads this convolution's output (its dy, output and argmax), bit for bit as
    /// <see cref="MaxPool2D.BackwardToConvolution"/> then <see cref="BackwardWeights(ReadOnlySpan{float}, PooledGradient, Span{float}, Span{float}, int, in ConvGeometry, Span{float})"/>
    /// give them, without writing the pooled gradient to memory: each thread fills one sample's lists for its channels
    /// in cache and reads them at once. For a convolution that needs no data gradient (the first trainable layer).
    /// </summary>
    public static void BackwardWeightsThroughPool(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, ReadOnlySpan<float> y, ReadOnlySpan<int> argmax, Epilogue act, Span<float> dw, Span<float> db, int batch, in ConvGeometry g, in PoolGeometry pool, Span<float> scratch)
    {
        CheckShapes(batch, g, x.Length, nameof(x), dw.Length, nameof(dw), batch * g.OutSize, "the convolution's output", scratch.Length);
        Check.Length(db.Length, g.OutC, nameof(db));
        CheckPool(g, pool);
        Check.Length(dy.Length, (long)batch * pool.OutSize, nameof(dy));
        Check.Length(y.Length, dy.Length, nameof(y));
        Check.Length(argmax.Length, dy.Length, nameof(argmax));
        Activations.RefuseInputDerivative(act, nameof(act));
        WeightsThroughPool(x, dy, y, argmax, act, dw, db, batch, g, pool, scratch);
    }

    /// <summary>
    /// dx as the dense <see cref="BackwardData(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, in ConvGeometry, Span{float})"/>,
    /// from a pooled dz: each dx pixel gathers value·w[kh, kw, ·, channel] from the entries whose patch covers it, so
    /// the work is proportional to the entries. Any stride.
    /// </summary>
    /// <remarks>Each dx element sums its terms in a fixed order: kernel rows, then dz pixels left to right, then channels ascending.</remarks>
    public static void BackwardData(PooledGradient dz, ReadOnlySpan<float> w, Span<float> dx, int batch, in ConvGeometry g, Span<float> scratch)
    {
        ArgumentNullException.ThrowIfNull(dz);
        CheckShapes(batch, g, dx.Length, nameof(dx), w.Length, nameof(w), batch * g.OutSize, nameof(dz), scratch.Length);
        dz.CheckFor(batch, g.OutH, g.OutW, g.OutC, nameof(dz));
        // Keras' same and valid pools never have more windows than pixels; the per-sample lists are sized on that.
        if (dz.Windows > g.OutH * g.OutW)
        {
            throw new ArgumentException($"dz's pool has {dz.Windows} windows per channel, more than the {g.OutH * g.OutW} pixels they read; the sparse data gradient needs at most one window per pixel.", nameof(dz));
        }
        DataFromLists(dz, w, dx, batch, g, scratch);
    }

    /// <summary>
    /// dx from the max pool that reads this convolution's output (its dy, output and argmax), as
    /// <see cref="MaxPool2D.BackwardToConvolution"/> then <see cref="BackwardData(PooledGradient, ReadOnlySpan{float}, Span{float}, int, in ConvGeometry, Span{float})"/>
    /// give it, without writing the pooled gradient to memory. A convolution whose forward pass runs as Winograd (5×5, and
    /// 3×3 with 16 channels or more: docs/KERNELS.md) under 2×2 windows runs as that Winograd on the pool's gradient,
    /// within about 1e-5 of the largest output (the 75 % of zeros cost it multiplies, but as small GEMMs they take less
    /// time than the sparse gather); any other runs the sparse gather bit for bit, each thread filling one sample's lists
    /// in cache.
    /// </summary>
    public static void BackwardDataThroughPool(ReadOnlySpan<float> dy, ReadOnlySpan<float> y, ReadOnlySpan<int> argmax, Epilogue act, ReadOnlySpan<float> w, Span<float> dx, int batch, in ConvGeometry g, in PoolGeometry pool, Span<float> scratch)
    {
        CheckShapes(batch, g, dx.Length, nameof(dx), w.Length, nameof(w), batch * g.OutSize, "the convolution's output", scratch.Length);
        CheckPool(g, pool);
        Check.AtLeast(scratch.Length, ScratchSize(batch, g, pool), "scratch");
        Check.Length(dy.Length, (long)batch * pool.OutSize, nameof(dy));
        Check.Length(y.Length, dy.Length, nameof(y));
        Check.Length(argmax.Length, dy.Length, nameof(argmax));
        Activations.RefuseInputDerivative(act, nameof(act));
        BackwardDataThroughPoolBy(Conv2DPlan.Choose(g, pool, dataGradient: true, batch).Data, dy, y, argmax, act, w, dx, batch, g, pool, scratch);
    }

    /// <summary>Runs data-gradient path <paramref name="path"/> (Winograd or the sparse gather) from the pool's tensors; shapes and scratch already checked.</summary>
    internal static unsafe void BackwardDataThroughPoolBy(Conv2DDataPath path, ReadOnlySpan<float> dy, ReadOnlySpan<float> y, ReadOnlySpan<int> argmax, Epilogue act, ReadOnlySpan<float> w, Span<float> dx, int batch, in ConvGeometry g, in PoolGeometry pool, Span<float> scratch)
    {
        if (path == Conv2DDataPath.WinogradThroughPool)
        {
            Winograd.ForBackwardData(g, pool)!.Value.BackwardData(dy, y, argmax, act, w, dx, batch, g, pool, scratch);
            return;
        }
        fixed (float* pdy = dy, py = y)
        fixed (int* pargmax = argmax)
        {
            var lists = new MaxPool2D.Lists(pdy, py, pargmax, act, pool);
            ImplicitGemm.ForForward(g).SparseDataGradient(default, default, pool.OutH * pool.OutW, &lists, w, dx, batch, scratch);
        }
    }

    /// <summary>The sparse weight gradient from stored lists; shapes and scratch already checked.</summary>
    internal static unsafe void WeightsFromLists(ReadOnlySpan<float> x, PooledGradient dz, Span<float> dw, Span<float> db, int batch, in ConvGeometry g, Span<float> scratch) =>
        ImplicitGemm.ForForward(g).SparseWeightGradient(x, dz.Pixels, dz.Values, dz.Windows, null, dw, db, batch, scratch);

    /// <summary>The sparse weight gradient filling the lists from the pool's tensors in cache; shapes and scratch already checked.</summary>
    internal static unsafe void WeightsThroughPool(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, ReadOnlySpan<float> y, ReadOnlySpan<int> argmax, Epilogue act, Span<float> dw, Span<float> db, int batch, in ConvGeometry g, in PoolGeometry pool, Span<float> scratch)
    {
        fixed (float* pdy = dy, py = y)
        fixed (int* pargmax = argmax)
        {
            var lists = new MaxPool2D.Lists(pdy, py, pargmax, act, pool);
            ImplicitGemm.ForForward(g).SparseWeightGradient(x, default, default, pool.OutH * pool.OutW, &lists, dw, db, batch, scratch);
        }
    }

    /// <summary>The sparse data gradient from stored lists; shapes and scratch already checked.</summary>
    internal static unsafe void DataFromLists(PooledGradient dz, ReadOnlySpan<float> w, Span<float> dx, int batch, in ConvGeometry g, Span<float> scratch) =>
        ImplicitGemm.ForForward(g).SparseDataGradient(dz.Pixels, dz.Values, dz.Windows, null, w, dx, batch, scratch);

    private readonly partial record struct ImplicitGemm
    {
        // A patch is read as K kernel rows of KernelRow floats, each as Vectors vectors: segment s = (kh, v) starts at
        // kh·RowStride + 8v from the pixel's base. The last vector of a row runs past it; those lanes are dropped.
        // Segments are handled eight at a time, in registers.
        private const int Lanes = 8;
        private const int Group = 8;

        private int Vectors => (KernelRow + Lanes - 1) / Lanes;
        private int Segments => K * Vectors;
        private int SegmentFloats => Segments * Lanes;

        /// <summary>The larger of the two sparse layouts (<see cref="SparseWeightGradient"/>'s and <see cref="SparseDataGradient"/>'s).</summary>
        public int SparseScratchSize(int batch) =>
            Math.Max(Aligned(Pixels) + Aligned(Segments + Group) + Aligned(N * SegmentFloats) + Aligned(N * Lanes) + ChunkSamples(batch) * PaddedSample + Lanes + Workers.Count * SampleLists, DataScratchSize) + Alignment;

        // Per thread, for a weight gradient read through the pool: one sample's lists (pixels and values) of every channel.
        // Keras' pools have no more windows than pixels.
        private int SampleLists => 2 * Aligned(Pixels * N);

        // Each scratch region starts on a cache line, so no vector access splits across two.
        internal const int Alignment = 16;

        internal static int Aligned(int floats) => (floats + Alignment - 1) / Alignment * Alignment;

        internal static unsafe float* Align(float* p) => (float*)(((nint)p + Alignment * sizeof(float) - 1) & ~(nint)(Alignment * sizeof(float) - 1));

        // The entries come from a PooledGradient's arrays (pixels, values), or are filled from `lists` a sample at a time.
        public unsafe void SparseWeightGradient(ReadOnlySpan<float> x, ReadOnlySpan<int> pixels, ReadOnlySpan<float> values, int windows, MaxPool2D.Lists* lists, Span<float> dw, Span<float> db, int batch, Span<float> scratch)
        {
            var chunk = ChunkSamples(batch);
            fixed (float* px = x, pdw = dw, pscratch = scratch, pvalues = values)
            fixed (int* ppixels = pixels)
            {
                var table = (int*)Align(pscratch);
                var offsets = table + Aligned(Pixels);
                var sums = (float*)offsets + Aligned(Segments + Group);
                var biasSums = sums + Aligned(N * SegmentFloats);
                var padded = biasSums + Aligned(N * Lanes);
                var sampleLists = Align(padded + (long)chunk * PaddedSample + Lanes);
                FillBases(table, offsets);
                new Span<float>(sums, N * SegmentFloats).Clear();
                new Span<float>(biasSums, N * Lanes).Clear();
                // Filling lists, a part takes whole blocks of eight channels, the fill's unit.
                var parts = Workers.PartsFor((long)batch * N * windows * SegmentFloats, MinimumPartMacs);
                parts = Math.Min(parts, lists == null ? N : (N + Lanes - 1) / Lanes);
                for (var s0 = 0; s0 < batch; s0 += chunk)
                {
                    var count = Math.Min(chunk, batch - s0);
                    var pad = new Job(this, px + (long)s0 * SrcSample, padded, null, count, null, null, relu: false, first: false);
                    Workers.Run(&PadPart, &pad, Workers.PartsFor(count, 1));
                    var job = new SparseJob(this, padded, table, offsets, sums, ppixels, pvalues, lists, sampleLists, windows, batch, s0, count, biasSums);
                    Workers.Run(&SparseWeightPart, &job, parts);
                }
                for (var p = 0; p < Patch; p++)
                {
                    var (kh, q) = Math.DivRem(p, KernelRow);
                    for (var n = 0; n < N; n++)
                    {
                        pdw[(long)p * N + n] = sums[(long)n * SegmentFloats + kh * Vectors * Lanes + q];
                    }
                }
                for (var n = 0; n < N; n++)
                {
                    db[n] = biasSums[n * Lanes];
                }
            }
        }

        // table[pixel] = the pixel's base in a padded sample; offsets[s] = segment s's offset from it (then Group zeros).
        private unsafe void FillBases(int* table, int* offsets)
        {
            for (var s = 0; s < Segments + Group; s++)
            {
                var (kh, v) = Math.DivRem(s, Vectors);
                offsets[s] = s < Segments ? kh * RowStride + v * Lanes : 0;
            }
            for (var oh = 0; oh < OutH; oh++)
            {
                for (var ow = 0; ow < OutW; ow++)
                {
                    table[oh * OutW + ow] = oh * Stride * RowStride + ow * Stride * C;
                }
            }
        }

        // Channels [lo, hi) over the chunk's samples: a sample's padded patch stays in cache while every channel reads it.
        private static unsafe void SparseWeightPart(void* state, int part, int parts)
        {
            ref readonly var job = ref *(SparseJob*)state;
            var g = job.Plan;
            var (lo, hi) = Gemm.Range(g.N, job.Lists == null ? 1 : Lanes, part, parts);
            var pixels = job.Pixels;
            var values = job.Values;
            if (job.Lists != null)
            {
                pixels = (int*)job.SampleLists + (long)Workers.Thread * g.SampleLists;
                values = (float*)pixels + Aligned(g.Pixels * g.N);
            }
            for (var s = 0; s < job.Count; s++)
            {
                var sample = job.Padded + (long)s * g.PaddedSample;
                // This sample's lists of channels [lo, hi), channel n's at (n − lo)·Windows; or all of them in the arrays.
                var first = (long)(job.First + s) * g.N * job.Windows;
                if (job.Lists != null)
                {
                    job.Lists->Fill(job.First + s, lo, hi, pixels, values);
                    first = -(long)lo * job.Windows;
                }
                for (var n = lo; n < hi; n++)
                {
                    var (e0, e1) = ((int)(first + (long)n * job.Windows), (int)(first + (long)(n + 1) * job.Windows));
                    var sums = job.Rows + (long)n * g.SegmentFloats;
                    if (g.Vectors is 8 or 10 or 12)
                    {
                        // A pass per kernel row: its vectors are constant displacements from the row's start, so no
                        // offset takes a register and the JIT keeps every accumulator in one.
                        for (var kh = 0; kh < g.K; kh++)
                        {
                            var rowSums = sums + (long)kh * g.Vectors * Lanes;
                            var bias = kh == 0 ? job.Output + n * Lanes : null;
                            var rowOffset = kh * g.RowStride;
                            switch (g.Vectors)
                            {
                                case 8: WeightRow<Eight>(sample + rowOffset, job.Table, pixels, values, e0, e1, rowSums, bias); break;
                                case 10: WeightRow<Ten>(sample + rowOffset, job.Table, pixels, values, e0, e1, rowSums, bias); break;
                                default: WeightRow<Twelve>(sample + rowOffset, job.Table, pixels, values, e0, e1, rowSums, bias); break;
                            }
                        }
                        continue;
                    }
                    for (var s0 = 0; s0 < g.Segments; s0 += Group)
                    {
                        var count = Math.Min(Group, g.Segments - s0);
                        var bias = s0 == 0 ? job.Output + n * Lanes : null;
                        // As few accumulators as the group needs: a 5×5 kernel over one channel has five segments.
                        switch (count)
                        {
                            case <= 2: WeightGroup<Two>(sample, job.Table, job.Offsets + s0, pixels, values, e0, e1, s0, count, sums, bias); break;
                            case <= 4: WeightGroup<Four>(sample, job.Table, job.Offsets + s0, pixels, values, e0, e1, s0, count, sums, bias); break;
                            case 5: WeightGroup<Five>(sample, job.Table, job.Offsets + s0, pixels, values, e0, e1, s0, count, sums, bias); break;
                            default: WeightGroup<Eight>(sample, job.Table, job.Offsets + s0, pixels, values, e0, e1, s0, count, sums, bias); break;
                        }
                    }
                }
            }
        }

        // sums[segment] += Σ_e value_e · patch_e[segment] for `count` segments from s0, with T.Width ≥ count accumulators
        // (a constant to the JIT; unused ones re-read segment s0). With `bias`, also bias[lane] += Σ_e value_e in every
        // lane: db in the same order, for one add per entry.
        private static unsafe void WeightGroup<T>(float* sample, int* table, int* offsets, int* pixels, float* values, int e0, int e1, int s0, int count, float* sums, float* bias) where T : struct, IWidth
        {
            long o0 = offsets[0], o1 = offsets[count > 1 ? 1 : 0], o2 = offsets[count > 2 ? 2 : 0], o3 = offsets[count > 3 ? 3 : 0];
            long o4 = offsets[count > 4 ? 4 : 0], o5 = offsets[count > 5 ? 5 : 0], o6 = offsets[count > 6 ? 6 : 0], o7 = offsets[count > 7 ? 7 : 0];
            var acc = sums + (long)s0 * Lanes;
            var a0 = Vector256.Load(acc);
            var a1 = count > 1 ? Vector256.Load(acc + Lanes) : default;
            var a2 = count > 2 ? Vector256.Load(acc + 2 * Lanes) : default;
            var a3 = count > 3 ? Vector256.Load(acc + 3 * Lanes) : default;
            var a4 = count > 4 ? Vector256.Load(acc + 4 * Lanes) : default;
            var a5 = count > 5 ? Vector256.Load(acc + 5 * Lanes) : default;
            var a6 = count > 6 ? Vector256.Load(acc + 6 * Lanes) : default;
            var a7 = count > 7 ? Vector256.Load(acc + 7 * Lanes) : default;
            var a8 = bias == null ? default : Vector256.Load(bias);
            for (var e = e0; e < e1; e++)
            {
                var p = sample + table[pixels[e]];
                var v = Vector256.Create(values[e]);
                a0 = Vector256.FusedMultiplyAdd(Vector256.Load(p + o0), v, a0);
                a1 = Vector256.FusedMultiplyAdd(Vector256.Load(p + o1), v, a1);
                if (T.Width > 2)
                {
                    a2 = Vector256.FusedMultiplyAdd(Vector256.Load(p + o2), v, a2);
                    a3 = Vector256.FusedMultiplyAdd(Vector256.Load(p + o3), v, a3);
                }
                if (T.Width > 4)
                {
                    a4 = Vector256.FusedMultiplyAdd(Vector256.Load(p + o4), v, a4);
                }
                if (T.Width > 5)
                {
                    a5 = Vector256.FusedMultiplyAdd(Vector256.Load(p + o5), v, a5);
                    a6 = Vector256.FusedMultiplyAdd(Vector256.Load(p + o6), v, a6);
                    a7 = Vector256.FusedMultiplyAdd(Vector256.Load(p + o7), v, a7);
                }
                a8 += v;
            }
            if (bias != null) a8.Store(bias);
            a0.Store(acc);
            if (count > 1) a1.Store(acc + Lanes);
            if (count > 2) a2.Store(acc + 2 * Lanes);
            if (count > 3) a3.Store(acc + 3 * Lanes);
            if (count > 4) a4.Store(acc + 4 * Lanes);
            if (count > 5) a5.Store(acc + 5 * Lanes);
            if (count > 6) a6.Store(acc + 6 * Lanes);
            if (count > 7) a7.Store(acc + 7 * Lanes);
        }

        // One kernel row's T.Width vectors (exactly: every load is inside the row) += Σ_e value_e · row_e, and the bias
        // sums as in WeightGroup. The same chains as WeightGroup's, so the same bits.
        private static unsafe void WeightRow<T>(float* sample, int* table, int* pixels, float* values, int e0, int e1, float* acc, float* bias) where T : struct, IWidth
        {
            var a0 = Vector256.Load(acc);
            var a1 = Vector256.Load(acc + Lanes);
            var a2 = Vector256.Load(acc + 2 * Lanes);
            var a3 = Vector256.Load(acc + 3 * Lanes);
            var a4 = Vector256.Load(acc + 4 * Lanes);
            var a5 = Vector256.Load(acc + 5 * Lanes);
            var a6 = Vector256.Load(acc + 6 * Lanes);
            var a7 = Vector256.Load(acc + 7 * Lanes);
            var a8 = T.Width > 8 ? Vector256.Load(acc + 8 * Lanes) : default;
            var a9 = T.Width > 8 ? Vector256.Load(acc + 9 * Lanes) : default;
            var a10 = T.Width > 10 ? Vector256.Load(acc + 10 * Lanes) : default;
            var a11 = T.Width > 10 ? Vector256.Load(acc + 11 * Lanes) : default;
            var ab = bias == null ? default : Vector256.Load(bias);
            for (var e = e0; e < e1; e++)
            {
                var p = sample + table[pixels[e]];
                var v = Vector256.Create(values[e]);
                a0 = Vector256.FusedMultiplyAdd(Vector256.Load(p), v, a0);
                a1 = Vector256.FusedMultiplyAdd(Vector256.Load(p + Lanes), v, a1);
                a2 = Vector256.FusedMultiplyAdd(Vector256.Load(p + 2 * Lanes), v, a2);
                a3 = Vector256.FusedMultiplyAdd(Vector256.Load(p + 3 * Lanes), v, a3);
                a4 = Vector256.FusedMultiplyAdd(Vector256.Load(p + 4 * Lanes), v, a4);
                a5 = Vector256.FusedMultiplyAdd(Vector256.Load(p + 5 * Lanes), v, a5);
                a6 = Vector256.FusedMultiplyAdd(Vector256.Load(p + 6 * Lanes), v, a6);
                a7 = Vector256.FusedMultiplyAdd(Vector256.Load(p + 7 * Lanes), v, a7);
                if (T.Width > 8)
                {
                    a8 = Vector256.FusedMultiplyAdd(Vector256.Load(p + 8 * Lanes), v, a8);
                    a9 = Vector256.FusedMultiplyAdd(Vector256.Load(p + 9 * Lanes), v, a9);
                }
                if (T.Width > 10)
                {
                    a10 = Vector256.FusedMultiplyAdd(Vector256.Load(p + 10 * Lanes), v, a10);
                    a11 = Vector256.FusedMultiplyAdd(Vector256.Load(p + 11 * Lanes), v, a11);
                }
                ab += v;
            }
            if (bias != null) ab.Store(bias);
            a0.Store(acc);
            a1.Store(acc + Lanes);
            a2.Store(acc + 2 * Lanes);
            a3.Store(acc + 3 * Lanes);
            a4.Store(acc + 4 * Lanes);
            a5.Store(acc + 5 * Lanes);
            a6.Store(acc + 6 * Lanes);
            a7.Store(acc + 7 * Lanes);
            if (T.Width > 8)
            {
                a8.Store(acc + 8 * Lanes);
                a9.Store(acc + 9 * Lanes);
            }
            if (T.Width > 10)
            {
                a10.Store(acc + 10 * Lanes);
                a11.Store(acc + 11 * Lanes);
            }
        }

        private interface IWidth
        {
            static abstract int Width { get; }
        }

        private struct Two : IWidth
        {
            public static int Width => 2;
        }

        private struct Four : IWidth
        {
            public static int Width => 4;
        }

        private struct Five : IWidth
        {
            public static int Width => 5;
        }

        private struct Eight : IWidth
        {
            public static int Width => 8;
        }

        private struct Ten : IWidth
        {
            public static int Width => 10;
        }

        private struct Twelve : IWidth
        {
            public static int Width => 12;
        }

        // One weight-gradient call's operands: the chunk's padded x, the entries (Pixels and Values, or Lists to fill into
        // each thread's SampleLists), the segment sums and the bias sums (Output); First: the chunk's first sample.
        private readonly unsafe struct SparseJob(ImplicitGemm plan, float* padded, int* table, int* offsets, float* rows, int* pixels, float* values, MaxPool2D.Lists* lists, float* sampleLists, int windows, int batch, int first, int count, float* output)
        {
            public readonly ImplicitGemm Plan = plan;
            public readonly float* Padded = padded, Rows = rows, Values = values, Output = output, SampleLists = sampleLists;
            public readonly int* Table = table, Offsets = offsets, Pixels = pixels;
            public readonly MaxPool2D.Lists* Lists = lists;
            public readonly int Windows = windows, Batch = batch, First = first, Count = count;
        }
    }
}

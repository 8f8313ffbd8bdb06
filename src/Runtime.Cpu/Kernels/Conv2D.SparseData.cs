using System.Runtime.Intrinsics;

namespace Kiln.Runtime.Cpu;

public static partial class Conv2D
{
    private readonly partial record struct ImplicitGemm
    {
        // dx is produced four pixels of a row and 16 channels at a time: eight accumulators in registers.
        private const int Across = 4;
        private const int ChannelGroup = 16;

        private int PaddedChannels => (C + ChannelGroup - 1) / ChannelGroup * ChannelGroup;

        /// <summary>w regrouped as [kh, kw, oc, ic], ic padded with zeros to whole channel groups.</summary>
        private int RegroupedWeights => Aligned(K * K * N * PaddedChannels);

        /// <summary>
        /// Per thread: one sample's entries re-sorted by pixel (list starts, channels, values), and room to fill them
        /// from a pool first. A sample has one entry per window and channel, and no more windows than pixels.
        /// </summary>
        private int PixelLists => Aligned(Pixels + 1) + 2 * Aligned(Pixels * N) + SampleLists;

        private int DataScratchSize => RegroupedWeights + Workers.Count * PixelLists;

        // The entries come from a PooledGradient's arrays (pixels, values), or are filled from `lists` a sample at a time.
        public unsafe void SparseDataGradient(ReadOnlySpan<int> pixels, ReadOnlySpan<float> values, int windows, MaxPool2D.Lists* lists, ReadOnlySpan<float> w, Span<float> dx, int batch, Span<float> scratch)
        {
            fixed (float* pw = w, pdx = dx, pscratch = scratch, pvalues = values)
            fixed (int* ppixels = pixels)
            {
                var weights = Align(pscratch);
                for (var kk = 0; kk < K * K; kk++)
                {
                    for (var n = 0; n < N; n++)
                    {
                        var row = weights + ((long)kk * N + n) * PaddedChannels;
                        for (var c = 0; c < PaddedChannels; c++)
                        {
                            row[c] = c < C ? pw[((long)kk * C + c) * N + n] : 0f;
                        }
                    }
                }
                var job = new DataJob(this, weights, weights + RegroupedWeights, ppixels, pvalues, lists, windows, batch, pdx);
                Workers.Run(&SparseDataPart, &job, Workers.PartsFor((long)batch * N * windows * K * K * C, MinimumPartMacs));
            }
        }

        // Samples [lo, hi): sort the sample's entries by pixel, then gather every dx pixel from them.
        private static unsafe void SparseDataPart(void* state, int part, int parts)
        {
            ref readonly var job = ref *(DataJob*)state;
            var g = job.Plan;
            var ends = (int*)job.PixelLists + (long)Workers.Thread * g.PixelLists;
            var channels = ends + Aligned(g.Pixels + 1);
            var values = (float*)(channels + Aligned(g.Pixels * g.N));
            var samplePixels = (int*)values + Aligned(g.Pixels * g.N);
            var sampleValues = (float*)samplePixels + Aligned(g.Pixels * g.N);
            var (lo, hi) = Gemm.Range(job.Batch, 1, part, parts);
            for (var b = lo; b < hi; b++)
            {
                var entries = (long)b * g.N * job.Windows;
                if (job.Lists == null)
                {
                    job.SortByPixel(job.Pixels + entries, job.Values + entries, ends, channels, values);
                }
                else
                {
                    job.Lists->Fill(b, 0, g.N, samplePixels, sampleValues);
                    job.SortByPixel(samplePixels, sampleValues, ends, channels, values);
                }
                var dx = job.Output + (long)b * g.SrcSample;
                for (var ih = 0; ih < g.SrcH; ih++)
                {
                    for (var iw = 0; iw < g.SrcW; iw += Across)
                    {
                        for (var c0 = 0; c0 < g.C; c0 += ChannelGroup)
                        {
                            g.GatherPixels(ih, iw, c0, ends, channels, values, job.Weights, dx);
                        }
                    }
                }
            }
        }

        // dx[ih, iw .. iw+3, c0 .. c0+15]. Padded coordinates (iy, ix): dz pixel (oh, ow) covers ix + j when
        // kw = ix + j − ow·Stride lies in [0, K), for j in a range fixed for the whole of that pixel's list.
        private unsafe void GatherPixels(int ih, int iw, int c0, int* ends, int* channels, float* values, float* weights, float* dx)
        {
            var (iy, ix) = (ih + PadTop, iw + PadLeft);
            var sums = default(Sums);
            var padded = PaddedChannels;
            var kwStride = (long)N * padded;
            var (ohLo, ohHi) = (Math.Max(CeilDiv(iy - K + 1, Stride), 0), Math.Min(iy / Stride + 1, OutH));
            var (owLo, owHi) = (Math.Max(CeilDiv(ix - K + 1, Stride), 0), Math.Min((ix + Across - 1) / Stride + 1, OutW));
            for (var oh = ohLo; oh < ohHi; oh++)
            {
                var kh = iy - oh * Stride;
                for (var ow = owLo; ow < owHi; ow++)
                {
                    var q = oh * OutW + ow;
                    var (e0, e1) = (q == 0 ? 0 : ends[q - 1], ends[q]);
                    if (e0 == e1)
                    {
                        continue;
                    }
                    // Output j uses kw = j − d: j in [max(d, 0), min(d + K, Across)).
                    var d = ow * Stride - ix;
                    var tap = weights + (long)kh * K * kwStride - d * kwStride + c0;
                    var list = new List(tap, kwStride, channels, values, e0, e1);
                    switch (Math.Max(d, 0) * 5 + Math.Min(d + K, Across))
                    {
                        case 1: Gather<Yes, No, No, No>(ref sums, list); break;
                        case 2: Gather<Yes, Yes, No, No>(ref sums, list); break;
                        case 3: Gather<Yes, Yes, Yes, No>(ref sums, list); break;
                        case 4: Gather<Yes, Yes, Yes, Yes>(ref sums, list); break;
                        case 7: Gather<No, Yes, No, No>(ref sums, list); break;
                        case 8: Gather<No, Yes, Yes, No>(ref sums, list); break;
                        case 9: Gather<No, Yes, Yes, Yes>(ref sums, list); break;
                        case 13: Gather<No, No, Yes, No>(ref sums, list); break;
                        case 14: Gather<No, No, Yes, Yes>(ref sums, list); break;
                        case 19: Gather<No, No, No, Yes>(ref sums, list); break;
                    }
                }
            }
            var width = Math.Min(ChannelGroup, C - c0);
            var pixel = dx + ((long)ih * SrcW + iw) * C + c0;
            StorePixel(pixel, width, sums.A00, sums.A01);
            if (iw + 1 < SrcW) StorePixel(pixel + C, width, sums.A10, sums.A11);
            if (iw + 2 < SrcW) StorePixel(pixel + 2 * C, width, sums.A20, sums.A21);
            if (iw + 3 < SrcW) StorePixel(pixel + 3 * C, width, sums.A30, sums.A31);
        }

        // One dz pixel's list into the outputs the type arguments select: each is a constant to the JIT, so every
        // instantiation is a branch-free loop with its accumulators in registers.
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static unsafe void Gather<T0, T1, T2, T3>(ref Sums sums, in List list)
            where T0 : struct, IFlag where T1 : struct, IFlag where T2 : struct, IFlag where T3 : struct, IFlag
        {
            var (a00, a01, a10, a11, a20, a21, a30, a31) = (sums.A00, sums.A01, sums.A10, sums.A11, sums.A20, sums.A21, sums.A30, sums.A31);
            float* tap = list.Tap, values = list.Values;
            var channels = list.Channels;
            var step = list.KwStride;
            // The caller skips empty lists; a do-while gives the JIT a loop without a jump back over its test.
            var e = list.E0;
            do
            {
                var v = Vector256.Create(values[e]);
                var wp = tap + channels[e];
                if (T0.On)
                {
                    a00 = Vector256.FusedMultiplyAdd(Vector256.Load(wp), v, a00);
                    a01 = Vector256.FusedMultiplyAdd(Vector256.Load(wp + 8), v, a01);
                }
                if (T1.On)
                {
                    a10 = Vector256.FusedMultiplyAdd(Vector256.Load(wp + step), v, a10);
                    a11 = Vector256.FusedMultiplyAdd(Vector256.Load(wp + step + 8), v, a11);
                }
                if (T2.On)
                {
                    a20 = Vector256.FusedMultiplyAdd(Vector256.Load(wp + 2 * step), v, a20);
                    a21 = Vector256.FusedMultiplyAdd(Vector256.Load(wp + 2 * step + 8), v, a21);
                }
                if (T3.On)
                {
                    a30 = Vector256.FusedMultiplyAdd(Vector256.Load(wp + 3 * step), v, a30);
                    a31 = Vector256.FusedMultiplyAdd(Vector256.Load(wp + 3 * step + 8), v, a31);
                }
            }
            while (++e < list.E1);
            (sums.A00, sums.A01, sums.A10, sums.A11, sums.A20, sums.A21, sums.A30, sums.A31) = (a00, a01, a10, a11, a20, a21, a30, a31);
        }

        private interface IFlag
        {
            static abstract bool On { get; }
        }

        private struct Yes : IFlag
        {
            public static bool On => true;
        }

        private struct No : IFlag
        {
            public static bool On => false;
        }

        /// <summary>Two vectors (16 channels) for each of the Across pixels.</summary>
        private struct Sums
        {
            public Vector256<float> A00, A01, A10, A11, A20, A21, A30, A31;
        }

        // One dz pixel's entries and where their kernel taps start.
        private readonly unsafe struct List(float* tap, long kwStride, int* channels, float* values, int e0, int e1)
        {
            public readonly float* Tap = tap, Values = values;
            public readonly long KwStride = kwStride;
            public readonly int* Channels = channels;
            public readonly int E0 = e0, E1 = e1;
        }

        private static unsafe void StorePixel(float* dst, int width, Vector256<float> low, Vector256<float> high)
        {
            if (width == ChannelGroup)
            {
                low.Store(dst);
                high.Store(dst + 8);
                return;
            }
            var both = stackalloc float[ChannelGroup];
            low.Store(both);
            high.Store(both + 8);
            new ReadOnlySpan<float>(both, width).CopyTo(new Span<float>(dst, width));
        }

        private static int CeilDiv(int a, int b) => a <= 0 ? -(-a / b) : (a + b - 1) / b;

        // One data-gradient call's operands: the regrouped kernel, the threads' pixel lists, dz's entries (or the pool's
        // Lists to fill them from), dx.
        private readonly unsafe struct DataJob(ImplicitGemm plan, float* weights, float* pixelLists, int* pixels, float* values, MaxPool2D.Lists* lists, int windows, int batch, float* output)
        {
            public readonly ImplicitGemm Plan = plan;
            public readonly float* Weights = weights, PixelLists = pixelLists, Values = values, Output = output;
            public readonly int* Pixels = pixels;
            public readonly MaxPool2D.Lists* Lists = lists;
            public readonly int Windows = windows, Batch = batch;

            /// <summary>
            /// One sample's entries (pixels and gradients, channel c's from c·Windows) as lists per pixel, channels
            /// ascending: pixel q's are [ends[q − 1], ends[q]), each channel stored as its row's offset in the regrouped
            /// kernel (channel · PaddedChannels), so gathering needs no multiply.
            /// </summary>
            public void SortByPixel(int* pixels, float* gradients, int* ends, int* channels, float* values)
            {
                // Locals, not fields: the stores through ends would otherwise make the JIT reload them every entry.
                var (n, windows, padded) = (Plan.N, Windows, Plan.PaddedChannels);
                new Span<int>(ends, Plan.Pixels + 1).Clear();
                for (var e = 0; e < n * windows; e++)
                {
                    ends[pixels[e] + 1]++;
                }
                for (var q = 1; q <= Plan.Pixels; q++)
                {
                    ends[q] += ends[q - 1];
                }
                // ends[q] is now pixel q's start; filling advances it to the start of q + 1, pixel q's end.
                for (var c = 0; c < n; c++)
                {
                    for (var e = c * windows; e < (c + 1) * windows; e++)
                    {
                        var at = ends[pixels[e]]++;
                        channels[at] = c * padded;
                        values[at] = gradients[e];
                    }
                }
            }
        }
    }
}

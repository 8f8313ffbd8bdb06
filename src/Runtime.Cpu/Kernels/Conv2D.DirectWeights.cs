using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Runtime.Cpu;

public static partial class Conv2D
{
    /// <summary>
    /// The weight gradient of a convolution whose input has few channels (a first layer on grey or RGB images, LeNet's
    /// 6): dw[kh, kw, c, o] = Σ over output pixels of x[pixel + (kh, kw), c]·dz[pixel, o], with dz read a vector of
    /// output channels at a time and each input value broadcast against it. The implicit GEMM's weight gradient packs
    /// both operands for a product with only K·K·C (9 to 75) rows, and the packing costs more than the multiplies.
    /// </summary>
    /// <remarks>
    /// A pass takes two streams, each one kernel row kh of one input channel c against one vector of 8 output channels,
    /// K accumulators per stream (one per kw), over every pixel of a group of samples: per pixel 2 vector loads,
    /// 2·K broadcasts, 2·K fused multiply-adds. Streams are paired along the output channels, then along the kernel
    /// rows. Determinism: each group of <see cref="GroupSamples"/> samples sums its pixels in order into its own
    /// partial; the partials are added in group order. Neither depends on the number of threads.
    /// </remarks>
    private readonly record struct DirectWeights(ImplicitGemm Layout)
    {
        /// <summary>Samples per partial sum: fixed, so the bits do not depend on how the groups are shared out.</summary>
        private const int GroupSamples = 4;

        private int Patch => Layout.K * Layout.K * Layout.C;
        private int Vectors => (Layout.N + 7) / 8;
        private int Streams => Layout.K * Layout.C * Vectors;

        /// <summary>The kernel for 3×3 and 5×5 convolutions of fewer than 8 input channels (with FMA), else null.</summary>
        public static DirectWeights? For(in ConvGeometry g) =>
            Fma.IsSupported && g.InC < 8 && g.Kernel is 3 or 5 ? new DirectWeights(ImplicitGemm.ForForward(g)) : null;

        private static int Groups(int batch) => (batch + GroupSamples - 1) / GroupSamples;

        /// <summary>Each thread's padded samples, then each group's partial dw.</summary>
        public int ScratchSize(int batch) => Workers.Count * GroupSamples * Layout.PaddedSample + Groups(batch) * Patch * Layout.N;

        /// <summary>dw overwritten with the sum over every pixel of the batch.</summary>
        public unsafe void WeightGradient(ReadOnlySpan<float> x, ReadOnlySpan<float> dz, Span<float> dw, int batch, Span<float> scratch)
        {
            var groups = Groups(batch);
            fixed (float* px = x, pdz = dz, pdw = dw, pscratch = scratch)
            {
                var partials = pscratch + (long)Workers.Count * GroupSamples * Layout.PaddedSample;
                var job = new Job(this, px, pdz, pscratch, partials, batch);
                Workers.Run(&GroupPart, &job, Workers.PartsFor(groups, 1));
                var size = Patch * Layout.N;
                new Span<float>(pdw, size).Clear();
                for (var k = 0; k < groups; k++)
                {
                    var partial = partials + (long)k * size;
                    for (var i = 0; i < size; i++)
                    {
                        pdw[i] += partial[i];
                    }
                }
            }
        }

        // Groups [lo, hi): pad the group's samples into this thread's slot, then every pair of streams over them.
        private static unsafe void GroupPart(void* state, int part, int parts)
        {
            ref readonly var job = ref *(Job*)state;
            var d = job.Kernel;
            var g = d.Layout;
            var (lo, hi) = Gemm.Range(Groups(job.Batch), 1, part, parts);
            var padded = job.Padded + (long)Workers.Thread * GroupSamples * g.PaddedSample;
            var dzSample = (long)g.OutH * g.OutW * g.N;
            for (var k = lo; k < hi; k++)
            {
                var first = k * GroupSamples;
                var count = Math.Min(GroupSamples, job.Batch - first);
                for (var s = 0; s < count; s++)
                {
                    g.PadSample(job.X + (long)(first + s) * g.SrcSample, padded + (long)s * g.PaddedSample);
                }
                var partial = job.Partials + (long)k * d.Patch * g.N;
                var dz = job.Dz + first * dzSample;
                for (var stream = 0; stream < d.Streams; stream += 2)
                {
                    // An odd last stream is paired with itself under an empty mask: its second half computes zeros, stored nowhere.
                    var (x0, dz0, out0, lanes0) = d.Stream(stream);
                    var (x1, dz1, out1, lanes1) = stream + 1 < d.Streams ? d.Stream(stream + 1) : (x0, dz0, out0, 0);
                    if (g.K == 3)
                    {
                        d.Pass3(padded + x0, padded + x1, dz + dz0, dz + dz1, partial + out0, partial + out1, lanes0, lanes1, count);
                    }
                    else
                    {
                        d.Pass5(padded + x0, padded + x1, dz + dz0, dz + dz1, partial + out0, partial + out1, lanes0, lanes1, count);
                    }
                }
            }
        }

        // Stream i: output-channel vector fastest, then input channel, then kernel row. The offsets of its first input
        // value (pixel (0, 0), kw = 0) in a padded sample, its first dz vector, its first dw element (kw = 0), and how
        // many of the vector's 8 channels exist.
        private (long X, int Dz, long Out, int Lanes) Stream(int i)
        {
            var g = Layout;
            var (rest, v) = Math.DivRem(i, Vectors);
            var (kh, c) = Math.DivRem(rest, g.C);
            return ((long)kh * g.RowStride + c, v * 8, (long)(kh * g.K * g.C + c) * g.N + v * 8, Math.Min(8, g.N - v * 8));
        }

        // Pass3 and Pass5 are the same loops with 3 and 5 taps per stream: one method with the last two taps behind a
        // flag measured 30 % slower on LeNet-5's 5×5 layer (0.97 against 0.74 ms at batch 256).
        private unsafe void Pass3(float* x0, float* x1, float* dz0, float* dz1, float* out0, float* out1, int lanes0, int lanes1, int count)
        {
            var g = Layout;
            var (m0, m1) = (Mask(lanes0), Mask(lanes1));
            var (step, c) = (g.Stride * g.C, g.C);
            Vector256<float> a0 = default, a1 = default, a2 = default, b0 = default, b1 = default, b2 = default;
            for (var s = 0; s < count; s++)
            {
                for (var oh = 0; oh < g.OutH; oh++)
                {
                    var row = (long)s * g.PaddedSample + (long)oh * g.Stride * g.RowStride;
                    float* p0 = x0 + row, p1 = x1 + row;
                    var at = ((long)s * g.OutH + oh) * g.OutW * g.N;
                    float* d0p = dz0 + at, d1p = dz1 + at;
                    for (var ow = 0; ow < g.OutW; ow++, p0 += step, p1 += step, d0p += g.N, d1p += g.N)
                    {
                        var d0 = Load(d0p, m0, lanes0);
                        var d1 = Load(d1p, m1, lanes1);
                        a0 = Fma.MultiplyAdd(Vector256.Create(p0[0]), d0, a0);
                        a1 = Fma.MultiplyAdd(Vector256.Create(p0[c]), d0, a1);
                        a2 = Fma.MultiplyAdd(Vector256.Create(p0[2 * c]), d0, a2);
                        b0 = Fma.MultiplyAdd(Vector256.Create(p1[0]), d1, b0);
                        b1 = Fma.MultiplyAdd(Vector256.Create(p1[c]), d1, b1);
                        b2 = Fma.MultiplyAdd(Vector256.Create(p1[2 * c]), d1, b2);
                    }
                }
            }
            var tap = g.C * g.N;
            Store(out0, tap, m0, lanes0, a0, a1, a2, default, default);
            Store(out1, tap, m1, lanes1, b0, b1, b2, default, default);
        }

        private unsafe void Pass5(float* x0, float* x1, float* dz0, float* dz1, float* out0, float* out1, int lanes0, int lanes1, int count)
        {
            var g = Layout;
            var (m0, m1) = (Mask(lanes0), Mask(lanes1));
            var (step, c) = (g.Stride * g.C, g.C);
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default;
            Vector256<float> b0 = default, b1 = default, b2 = default, b3 = default, b4 = default;
            for (var s = 0; s < count; s++)
            {
                for (var oh = 0; oh < g.OutH; oh++)
                {
                    var row = (long)s * g.PaddedSample + (long)oh * g.Stride * g.RowStride;
                    float* p0 = x0 + row, p1 = x1 + row;
                    var at = ((long)s * g.OutH + oh) * g.OutW * g.N;
                    float* d0p = dz0 + at, d1p = dz1 + at;
                    for (var ow = 0; ow < g.OutW; ow++, p0 += step, p1 += step, d0p += g.N, d1p += g.N)
                    {
                        var d0 = Load(d0p, m0, lanes0);
                        var d1 = Load(d1p, m1, lanes1);
                        a0 = Fma.MultiplyAdd(Vector256.Create(p0[0]), d0, a0);
                        a1 = Fma.MultiplyAdd(Vector256.Create(p0[c]), d0, a1);
                        a2 = Fma.MultiplyAdd(Vector256.Create(p0[2 * c]), d0, a2);
                        a3 = Fma.MultiplyAdd(Vector256.Create(p0[3 * c]), d0, a3);
                        a4 = Fma.MultiplyAdd(Vector256.Create(p0[4 * c]), d0, a4);
                        b0 = Fma.MultiplyAdd(Vector256.Create(p1[0]), d1, b0);
                        b1 = Fma.MultiplyAdd(Vector256.Create(p1[c]), d1, b1);
                        b2 = Fma.MultiplyAdd(Vector256.Create(p1[2 * c]), d1, b2);
                        b3 = Fma.MultiplyAdd(Vector256.Create(p1[3 * c]), d1, b3);
                        b4 = Fma.MultiplyAdd(Vector256.Create(p1[4 * c]), d1, b4);
                    }
                }
            }
            var tap = g.C * g.N;
            Store(out0, tap, m0, lanes0, a0, a1, a2, a3, a4);
            Store(out1, tap, m1, lanes1, b0, b1, b2, b3, b4);
        }

        private static Vector256<float> Mask(int lanes) =>
            Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(lanes)).AsSingle();

        // A whole vector of channels is a plain load; a partial one (the last vector of 6 channels) is masked, so it
        // never reads past dz's end.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static unsafe Vector256<float> Load(float* p, Vector256<float> mask, int lanes) =>
            lanes == 8 ? Avx.LoadVector256(p) : Avx.MaskLoad(p, mask);

        // The stream's K sums, tap kw at out + kw·tap (Pass3 passes defaults for the last two); an empty stream stores nothing.
        private unsafe void Store(float* output, int tap, Vector256<float> mask, int lanes, Vector256<float> s0, Vector256<float> s1, Vector256<float> s2, Vector256<float> s3, Vector256<float> s4)
        {
            if (lanes <= 0)
            {
                return;
            }
            ReadOnlySpan<Vector256<float>> sums = [s0, s1, s2, s3, s4];
            for (var kw = 0; kw < Layout.K; kw++)
            {
                Avx.MaskStore(output + (long)kw * tap, mask, sums[kw]);
            }
        }

        private readonly unsafe struct Job(DirectWeights kernel, float* x, float* dz, float* padded, float* partials, int batch)
        {
            public readonly DirectWeights Kernel = kernel;
            public readonly float* X = x, Dz = dz, Padded = padded, Partials = partials;
            public readonly int Batch = batch;
        }
    }
}

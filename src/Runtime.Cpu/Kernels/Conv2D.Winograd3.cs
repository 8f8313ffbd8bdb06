using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kiln.Runtime.Cpu;

public static partial class Conv2D
{
    /// <summary>
    /// 3×3 stride-1 convolutions as Winograd F(6×6, 3×3) on the same 8×8 tiles and points (0, ±1, ±2, ±½, ∞) as
    /// F(4×4, 5×5): B^T depends only on the points, so the input transform, the 64 GEMMs and the zero-window flags are
    /// shared; G has three columns and A^T six rows. 64 multiplies per (tile, in channel, out channel) for 36 outputs
    /// instead of 324: 5.06× fewer, against 4× for F(4×4, 3×3) on 6×6 tiles and 2.25× for F(2×2, 3×3). In float64 on
    /// random tiles its float32 error is about that of F(4×4, 5×5) (median 1.7e-6 of the largest output per tile, against
    /// 1.3e-6).
    /// </summary>
    private readonly partial struct Winograd
    {
        /// <summary>
        /// Whether a 3×3 stride-1 convolution runs faster as Winograd than as the implicit GEMM (measured, batch 128, see
        /// docs/BENCHMARKS.md): from 16 channels in and out, where the transforms no longer outweigh the GEMMs they
        /// shorten, and where at least half of the tiles' 6×6 outputs lie inside the output (7×7 and 8×8 images, with
        /// 34 % and 44 %, measured at 0.9–1.05× the implicit GEMM; 14×14, 60 %, at 1.1–1.6×).
        /// </summary>
        private static bool Pays3(in ConvGeometry g) =>
            g.InC >= 16 && g.OutC >= 16 && 2L * g.OutH * g.OutW >= 36L * ((g.OutH + 5) / 6) * ((g.OutW + 5) / 6);

        // G·(a, b, c): the three-tap filter's values at the points 0, 1, −1, 2, −2, ½, −½, ∞, with the same scale per point
        // as the five-tap TransformFilter (the interpolation's denominators, which depend on the points alone).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static unsafe void TransformFilter(Vector256<double> a, Vector256<double> b, Vector256<double> c, Vector256<double>* dst, int stride)
        {
            var even = a + c;
            var even2 = a + Vector256.Create(4.0) * c;
            var two = Vector256.Create(2.0) * b;
            var evenHalf = Vector256.Create(4.0) * a + c;
            dst[0] = a * Vector256.Create(0.25);
            dst[stride] = (even + b) * Vector256.Create(1.0 / 18);
            dst[2 * stride] = (even - b) * Vector256.Create(1.0 / 18);
            dst[3 * stride] = (even2 + two) * Vector256.Create(1.0 / 360);
            dst[4 * stride] = (even2 - two) * Vector256.Create(1.0 / 360);
            dst[5 * stride] = (evenHalf + two) * Vector256.Create(4.0 / 45);
            dst[6 * stride] = (evenHalf - two) * Vector256.Create(4.0 / 45);
            dst[7 * stride] = c * Vector256.Create(0.25);
        }

        private readonly struct F6x6 : IOutputTransform
        {
            public static int Out => 6;

            public static int Kernel => 3;

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public static unsafe void AT(Vector256<float> m0, Vector256<float> m1, Vector256<float> m2, Vector256<float> m3,
                Vector256<float> m4, Vector256<float> m5, Vector256<float> m6, Vector256<float> m7, Vector256<float> bias, bool addBias, Vector256<float>* dst, int stride) =>
                AT6(m0, m1, m2, m3, m4, m5, m6, m7, bias, addBias, dst, stride);
        }

        // A^T·(m0..m7) of F(6×6, 3×3), + bias in the second pass: output j is Σ p^j·m(p) over the finite points, and the
        // last also takes m7 (∞). addBias is a constant at every call.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static unsafe void AT6(Vector256<float> m0, Vector256<float> m1, Vector256<float> m2, Vector256<float> m3,
            Vector256<float> m4, Vector256<float> m5, Vector256<float> m6, Vector256<float> m7, Vector256<float> bias, bool addBias, Vector256<float>* dst, int stride)
        {
            var (s1, t1, s2, t2, s3, t3) = (m1 + m2, m1 - m2, m3 + m4, m3 - m4, m5 + m6, m5 - m6);
            var y0 = m0 + s1 + s2 + s3;
            var y1 = Vector256.FusedMultiplyAdd(Vector256.Create(2f), t2, Vector256.FusedMultiplyAdd(Vector256.Create(0.5f), t3, t1));
            var y2 = Vector256.FusedMultiplyAdd(Vector256.Create(4f), s2, Vector256.FusedMultiplyAdd(Vector256.Create(0.25f), s3, s1));
            var y3 = Vector256.FusedMultiplyAdd(Vector256.Create(8f), t2, Vector256.FusedMultiplyAdd(Vector256.Create(0.125f), t3, t1));
            var y4 = Vector256.FusedMultiplyAdd(Vector256.Create(16f), s2, Vector256.FusedMultiplyAdd(Vector256.Create(0.0625f), s3, s1));
            var y5 = Vector256.FusedMultiplyAdd(Vector256.Create(32f), t2, Vector256.FusedMultiplyAdd(Vector256.Create(0.03125f), t3, t1)) + m7;
            if (addBias)
            {
                (y0, y1, y2, y3, y4, y5) = (y0 + bias, y1 + bias, y2 + bias, y3 + bias, y4 + bias, y5 + bias);
            }
            (dst[0], dst[stride], dst[2 * stride], dst[3 * stride], dst[4 * stride], dst[5 * stride]) = (y0, y1, y2, y3, y4, y5);
        }
    }
}

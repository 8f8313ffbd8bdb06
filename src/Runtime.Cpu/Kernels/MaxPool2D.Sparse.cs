using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Runtime.Cpu;

public static partial class MaxPool2D
{
    /// <summary>
    /// The backward pass of a max pool into the convolution that feeds it, fused with that convolution's activation:
    /// for every window whose maximum x[argmax] = y is selected, the gradient dy·f′(y) lands on that pixel (f′ from the
    /// output, as in <see cref="Activations.Backward(ReadOnlySpan{float}, Span{float}, Epilogue)"/>, so ReLU keeps dy where y &gt; 0). Every window's entry is written
    /// to <paramref name="dz"/>, as per-(channel, sample) lists in window order.
    /// </summary>
    public static unsafe void BackwardToConvolution(ReadOnlySpan<float> dy, ReadOnlySpan<float> y, ReadOnlySpan<int> argmax, Epilogue act, PooledGradient dz, int batch, in PoolGeometry g)
    {
        ArgumentNullException.ThrowIfNull(dz);
        Check.Positive(batch, nameof(batch));
        g.Validate();
        Check.Length(dy.Length, (long)batch * g.OutSize, nameof(dy));
        Check.Length(y.Length, dy.Length, nameof(y));
        Check.Length(argmax.Length, dy.Length, nameof(argmax));
        if (dz.Geometry != g || batch > dz.Capacity)
        {
            throw new ArgumentException($"dz was made for {dz.Capacity} samples of {dz.Geometry}; this call has {batch} of {g}.", nameof(dz));
        }
        Activations.RefuseInputDerivative(act, nameof(act));
        dz.Batch = batch;
        fixed (float* pdy = dy, py = y, pvalues = dz.Values)
        fixed (int* pargmax = argmax, ppixels = dz.Pixels)
        {
            var job = new FillJob(new Lists(pdy, py, pargmax, act, g), ppixels, pvalues, batch);
            Workers.Run(&FillPart, &job, Workers.PartsFor(batch, 8));
        }
    }

    // Samples [lo, hi), every channel, into the PooledGradient's slots.
    private static unsafe void FillPart(void* state, int part, int parts)
    {
        ref readonly var job = ref *(FillJob*)state;
        var g = job.Lists.Geometry;
        var entries = (long)g.OutH * g.OutW * g.Channels;
        var (lo, hi) = Gemm.Range(job.Batch, 1, part, parts);
        for (var b = lo; b < hi; b++)
        {
            job.Lists.Fill(b, 0, g.Channels, job.Pixels + b * entries, job.Values + b * entries);
        }
    }

    /// <summary>
    /// A pool's dy, output and argmax, read as the (pixel, gradient) lists of the convolution below it
    /// (<see cref="PooledGradient"/>'s entries), one sample and a range of channels at a time.
    /// </summary>
    internal readonly unsafe struct Lists(float* dy, float* y, int* argmax, Epilogue act, PoolGeometry geometry)
    {
        public readonly float* Dy = dy, Y = y;
        public readonly int* Argmax = argmax;
        public readonly Epilogue Act = act;
        public readonly PoolGeometry Geometry = geometry;

        /// <summary>The gradient dy·f′(y) and the argmax of the eight channels from element i of the pool's output.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public (Vector256<float> Gradient, Vector256<int> Argmax) Window(long i)
        {
            var (dy, y) = (Vector256.Load(Dy + i), Vector256.Load(Y + i));
            var gradient = Act switch
            {
                Epilogue.Relu => ReluGradient.Of(dy, y),
                Epilogue.Sigmoid => SigmoidGradient.Of(dy, y),
                Epilogue.Tanh => TanhGradient.Of(dy, y),
                Epilogue.LeakyRelu => LeakyReluGradient.Of(dy, y),
                Epilogue.Elu => EluGradient.Of(dy, y),
                Epilogue.Softplus => SoftplusGradient.Of(dy, y),
                _ => dy,
            };
            return (gradient, Vector256.Load(Argmax + i));
        }

        /// <summary>
        /// Sample b's lists of channels [chLo, chHi) into pixels and values, channel ch's at (ch − chLo)·windows: the
        /// [window, channel] tensors are transposed eight windows by eight channels in registers; edges that don't
        /// fill a block go one entry at a time.
        /// </summary>
        public void Fill(int b, int chLo, int chHi, int* pixels, float* values)
        {
            var c = Geometry.Channels;
            var windows = Geometry.OutH * Geometry.OutW;
            // argmax = pixel·C + ch: with both below 2²⁴, (argmax − ch)/C in float is exact.
            var blocked = Avx.IsSupported && Geometry.InSize <= 1 << 24;
            var (blockWindows, blockEnd) = blocked ? (windows / 8 * 8, chLo + (chHi - chLo) / 8 * 8) : (0, chLo);
            var sample = (long)b * windows * c;
            switch (Act)
            {
                case Epilogue.Relu: FillBlocks<ReluGradient>(sample, blockWindows, chLo, blockEnd, pixels, values); break;
                case Epilogue.Sigmoid: FillBlocks<SigmoidGradient>(sample, blockWindows, chLo, blockEnd, pixels, values); break;
                case Epilogue.Tanh: FillBlocks<TanhGradient>(sample, blockWindows, chLo, blockEnd, pixels, values); break;
                case Epilogue.LeakyRelu: FillBlocks<LeakyReluGradient>(sample, blockWindows, chLo, blockEnd, pixels, values); break;
                case Epilogue.Elu: FillBlocks<EluGradient>(sample, blockWindows, chLo, blockEnd, pixels, values); break;
                case Epilogue.Softplus: FillBlocks<SoftplusGradient>(sample, blockWindows, chLo, blockEnd, pixels, values); break;
                default: FillBlocks<LinearGradient>(sample, blockWindows, chLo, blockEnd, pixels, values); break;
            }
            for (var o = 0; o < windows; o++)
            {
                for (var ch = o < blockWindows ? blockEnd : chLo; ch < chHi; ch++)
                {
                    var i = sample + (long)o * c + ch;
                    var at = Argmax[i];
                    var e = (long)(ch - chLo) * windows + o;
                    pixels[e] = at >= 0 ? at / c : 0;
                    values[e] = at >= 0 ? Gradient(Act, Dy[i], Y[i]) : 0f;
                }
            }
        }

        // The whole 8×8 blocks, the activation's derivative a type argument so that it is inlined.
        private void FillBlocks<T>(long sample, int blockWindows, int chLo, int blockEnd, int* pixels, float* values) where T : struct, IGradient
        {
            var windows = Geometry.OutH * Geometry.OutW;
            for (var o = 0; o < blockWindows; o += 8)
            {
                for (var ch = chLo; ch < blockEnd; ch += 8)
                {
                    var dst = (long)(ch - chLo) * windows + o;
                    FillBlock<T>(sample, o, ch, pixels + dst, values + dst);
                }
            }
        }

        // Windows o .. o+7 × channels ch .. ch+7 of one sample.
        [SkipLocalsInit]
        private void FillBlock<T>(long sample, int o, int ch, int* pixelsDst, float* valuesDst) where T : struct, IGradient
        {
            var (c, windows) = (Geometry.Channels, Geometry.OutH * Geometry.OutW);
            var values = stackalloc Vector256<float>[8];
            var pixels = stackalloc Vector256<float>[8];
            var first = Vector256.Create(ch) + Vector256<int>.Indices;
            var channels = Vector256.Create((float)c);
            for (var k = 0; k < 8; k++)
            {
                var i = sample + (long)(o + k) * c + ch;
                var at = Vector256.Load(Argmax + i);
                var valid = Vector256.GreaterThanOrEqual(at, Vector256<int>.Zero);
                values[k] = T.Of(Vector256.Load(Dy + i), Vector256.Load(Y + i)) & valid.AsSingle();
                pixels[k] = (Vector256.ConvertToInt32(Vector256.ConvertToSingle(at - first) / channels) & valid).AsSingle();
            }
            Transpose(values, valuesDst, windows);
            Transpose(pixels, (float*)pixelsDst, windows);
        }
    }

    // Row k of the 8×8 block at src becomes column k: dst + j·stride gets (src[0][j], …, src[7][j]).
    private static unsafe void Transpose(Vector256<float>* src, float* dst, int stride)
    {
        var (t0, t1) = (Avx.UnpackLow(src[0], src[1]), Avx.UnpackHigh(src[0], src[1]));
        var (t2, t3) = (Avx.UnpackLow(src[2], src[3]), Avx.UnpackHigh(src[2], src[3]));
        var (t4, t5) = (Avx.UnpackLow(src[4], src[5]), Avx.UnpackHigh(src[4], src[5]));
        var (t6, t7) = (Avx.UnpackLow(src[6], src[7]), Avx.UnpackHigh(src[6], src[7]));
        var (u0, u1) = (Avx.Shuffle(t0, t2, 0x44), Avx.Shuffle(t0, t2, 0xEE));
        var (u2, u3) = (Avx.Shuffle(t1, t3, 0x44), Avx.Shuffle(t1, t3, 0xEE));
        var (u4, u5) = (Avx.Shuffle(t4, t6, 0x44), Avx.Shuffle(t4, t6, 0xEE));
        var (u6, u7) = (Avx.Shuffle(t5, t7, 0x44), Avx.Shuffle(t5, t7, 0xEE));
        Avx.Permute2x128(u0, u4, 0x20).Store(dst);
        Avx.Permute2x128(u1, u5, 0x20).Store(dst + stride);
        Avx.Permute2x128(u2, u6, 0x20).Store(dst + 2L * stride);
        Avx.Permute2x128(u3, u7, 0x20).Store(dst + 3L * stride);
        Avx.Permute2x128(u0, u4, 0x31).Store(dst + 4L * stride);
        Avx.Permute2x128(u1, u5, 0x31).Store(dst + 5L * stride);
        Avx.Permute2x128(u2, u6, 0x31).Store(dst + 6L * stride);
        Avx.Permute2x128(u3, u7, 0x31).Store(dst + 7L * stride);
    }

    // dy·f′(y), the same expressions as Activations.Backward; ReLU selects without a branch (which y would defeat).
    private static float Gradient(Epilogue act, float dy, float y) => act switch
    {
        Epilogue.Relu => BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(dy) & -(y > 0f ? 1 : 0)),
        _ => Activations.GradientFromOutput(y, dy, act, Activations.DefaultAlpha(act)),
    };

    private interface IGradient
    {
        static abstract Vector256<float> Of(Vector256<float> dy, Vector256<float> y);
    }

    private struct LinearGradient : IGradient
    {
        public static Vector256<float> Of(Vector256<float> dy, Vector256<float> y) => dy;
    }

    private struct ReluGradient : IGradient
    {
        public static Vector256<float> Of(Vector256<float> dy, Vector256<float> y) =>
            Vector256.ConditionalSelect(Vector256.GreaterThan(y, Vector256<float>.Zero), dy, Vector256<float>.Zero);
    }

    private struct SigmoidGradient : IGradient
    {
        public static Vector256<float> Of(Vector256<float> dy, Vector256<float> y) => dy * (y * (Vector256<float>.One - y));
    }

    private struct TanhGradient : IGradient
    {
        public static Vector256<float> Of(Vector256<float> dy, Vector256<float> y) => dy * (Vector256<float>.One - y * y);
    }

    private struct LeakyReluGradient : IGradient
    {
        public static Vector256<float> Of(Vector256<float> dy, Vector256<float> y) =>
            Vector256.ConditionalSelect(Vector256.GreaterThan(y, Vector256<float>.Zero), dy, dy * Activations.LeakyReluSlope);
    }

    private struct EluGradient : IGradient
    {
        public static Vector256<float> Of(Vector256<float> dy, Vector256<float> y) =>
            Vector256.ConditionalSelect(Vector256.GreaterThan(y, Vector256<float>.Zero), dy, dy * (y + Vector256.Create(Activations.EluAlpha)));
    }

    // −expm1(−y) per lane, as Activations computes it (in double).
    private struct SoftplusGradient : IGradient
    {
        public static Vector256<float> Of(Vector256<float> dy, Vector256<float> y)
        {
            Span<float> lanes = stackalloc float[Vector256<float>.Count];
            for (var i = 0; i < lanes.Length; i++)
            {
                lanes[i] = Activations.GradientFromOutput(y.GetElement(i), dy.GetElement(i), Epilogue.Softplus, 0f);
            }
            return Vector256.Create<float>(lanes);
        }
    }

    private readonly unsafe struct FillJob(Lists lists, int* pixels, float* values, int batch)
    {
        public readonly Lists Lists = lists;
        public readonly int* Pixels = pixels;
        public readonly float* Values = values;
        public readonly int Batch = batch;
    }
}

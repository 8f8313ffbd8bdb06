using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Runtime.Cpu;

public static partial class MaxPool2D
{
    /// <summary>
    /// The backward pass of a max pool into the convolution that feeds it, fused with that convolution's activation:
    /// for every window whose maximum x[argmax] = y is selected, the gradient dy·f′(y) lands on that pixel (f′ from the
    /// output, as in <see cref="Activations.Backward"/>, so ReLU keeps dy where y &gt; 0). Every window's entry is written
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
        if (act is < Epilogue.Linear or > Epilogue.Tanh)
        {
            throw new ArgumentOutOfRangeException(nameof(act), act, "Unknown activation.");
        }
        dz.Batch = batch;
        fixed (float* pdy = dy, py = y, pvalues = dz.Values)
        fixed (int* pargmax = argmax, ppixels = dz.Pixels)
        {
            var job = new SparseJob(pdy, py, pargmax, act, ppixels, pvalues, batch, g);
            Workers.Run(&FillPart, &job, Workers.PartsFor(batch, 8));
        }
    }

    // Samples [lo, hi): each sample's [window, channel] tensors become [channel, window] lists, eight windows by eight
    // channels at a time through an in-register transpose; the edges that don't fill a block go one entry at a time.
    private static unsafe void FillPart(void* state, int part, int parts)
    {
        ref readonly var job = ref *(SparseJob*)state;
        var c = job.Geometry.Channels;
        var windows = job.Geometry.OutH * job.Geometry.OutW;
        // argmax = pixel·C + ch: with both below 2²⁴, (argmax − ch)/C in float is exact.
        var blocked = Avx.IsSupported && job.Geometry.InSize <= 1 << 24;
        var (blockWindows, blockChannels) = blocked ? (windows / 8 * 8, c / 8 * 8) : (0, 0);
        var (lo, hi) = Gemm.Range(job.Batch, 1, part, parts);
        for (var b = lo; b < hi; b++)
        {
            var sample = (long)b * windows * c;
            switch (job.Act)
            {
                case Epilogue.Relu: FillBlocks<ReluGradient>(job, sample, blockWindows, blockChannels); break;
                case Epilogue.Sigmoid: FillBlocks<SigmoidGradient>(job, sample, blockWindows, blockChannels); break;
                case Epilogue.Tanh: FillBlocks<TanhGradient>(job, sample, blockWindows, blockChannels); break;
                default: FillBlocks<LinearGradient>(job, sample, blockWindows, blockChannels); break;
            }
            for (var o = 0; o < windows; o++)
            {
                for (var ch = o < blockWindows ? blockChannels : 0; ch < c; ch++)
                {
                    var i = sample + (long)o * c + ch;
                    var at = job.Argmax[i];
                    var e = sample + (long)ch * windows + o;
                    job.Pixels[e] = at >= 0 ? at / c : 0;
                    job.Values[e] = at >= 0 ? Gradient(job.Act, job.Dy[i], job.Y[i]) : 0f;
                }
            }
        }
    }

    // The whole 8×8 blocks of one sample, the activation's derivative a type argument so that it is inlined.
    private static unsafe void FillBlocks<T>(in SparseJob job, long sample, int blockWindows, int blockChannels) where T : struct, IGradient
    {
        var (c, windows) = (job.Geometry.Channels, job.Geometry.OutH * job.Geometry.OutW);
        for (var o = 0; o < blockWindows; o += 8)
        {
            for (var ch = 0; ch < blockChannels; ch += 8)
            {
                FillBlock<T>(job, sample, o, ch, c, windows);
            }
        }
    }

    // Windows o .. o+7 × channels ch .. ch+7 of one sample.
    [SkipLocalsInit]
    private static unsafe void FillBlock<T>(in SparseJob job, long sample, int o, int ch, int c, int windows) where T : struct, IGradient
    {
        var values = stackalloc Vector256<float>[8];
        var pixels = stackalloc Vector256<float>[8];
        var first = Vector256.Create(ch) + Vector256<int>.Indices;
        var channels = Vector256.Create((float)c);
        for (var k = 0; k < 8; k++)
        {
            var i = sample + (long)(o + k) * c + ch;
            var at = Vector256.Load(job.Argmax + i);
            var valid = Vector256.GreaterThanOrEqual(at, Vector256<int>.Zero);
            values[k] = T.Of(Vector256.Load(job.Dy + i), Vector256.Load(job.Y + i)) & valid.AsSingle();
            pixels[k] = (Vector256.ConvertToInt32(Vector256.ConvertToSingle(at - first) / channels) & valid).AsSingle();
        }
        var dst = sample + (long)ch * windows + o;
        Transpose(values, job.Values + dst, windows);
        Transpose(pixels, (float*)(job.Pixels + dst), windows);
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
        Epilogue.Sigmoid => dy * (y * (1f - y)),
        Epilogue.Tanh => dy * (1f - y * y),
        _ => dy,
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

    private readonly unsafe struct SparseJob(float* dy, float* y, int* argmax, Epilogue act, int* pixels, float* values, int batch, PoolGeometry geometry)
    {
        public readonly float* Dy = dy, Y = y, Values = values;
        public readonly int* Argmax = argmax, Pixels = pixels;
        public readonly Epilogue Act = act;
        public readonly int Batch = batch;
        public readonly PoolGeometry Geometry = geometry;
    }
}

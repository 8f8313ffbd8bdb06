using System.Runtime.Intrinsics;

namespace Kiln.Runtime.Cpu;

/// <summary>
/// Inverted dropout (training only); mirror of Runtime.Cuda/Kernels/dropout.cu. The mask is a counter-based hash of
/// (seed, step, element index), so backward recomputes it and nothing is stored. In place (x and y the same memory) is allowed.
/// </summary>
public static class Dropout
{
    /// <summary>
    /// Counter-based hash, computed identically by the CUDA kernels (kiln_hash in 00_common.cu). All arithmetic mod 2³²:
    /// <code>
    /// mix32(x): x ^= x &gt;&gt; 16; x *= 0x7FEB352D; x ^= x &gt;&gt; 15; x *= 0x846CA68B; x ^= x &gt;&gt; 16; return x
    /// Hash(seed, step, index) = mix32(mix32(mix32(seed ^ 0x9E3779B9) ^ step) ^ index)
    /// </code>
    /// mix32 is Chris Wellons' lowbias32 finaliser: a bijection with good avalanche, so nearby indices give unrelated bits.
    /// </summary>
    public static uint Hash(uint seed, uint step, uint index)
    {
        var h = Mix32(seed ^ 0x9E3779B9u);
        h = Mix32(h ^ step);
        return Mix32(h ^ index);
    }

    /// <summary>True iff the element survives: (Hash &gt;&gt; 8)·2⁻²⁴ ≥ rate, i.e. a 24-bit uniform in [0, 1) compared in float.</summary>
    public static bool Keep(uint seed, uint step, uint index, float rate) =>
        (Hash(seed, step, index) >> 8) * (1f / 16777216f) >= rate;

    /// <summary>y[i] = Keep(i) ? x[i] / (1 − rate) : 0, with i the position in the whole batch tensor.</summary>
    public static void Forward(ReadOnlySpan<float> x, Span<float> y, float rate, uint seed, uint step)
    {
        CheckArguments(x.Length, y.Length, nameof(y), rate);
        Apply(x, y, rate, seed, step);
    }

    /// <summary>dx[i] = Keep(i) ? dy[i] / (1 − rate) : 0, the same mask as the matching <see cref="Forward"/>.</summary>
    public static void Backward(ReadOnlySpan<float> dy, Span<float> dx, float rate, uint seed, uint step)
    {
        CheckArguments(dy.Length, dx.Length, nameof(dx), rate);
        Apply(dy, dx, rate, seed, step);
    }

    private static unsafe void Apply(ReadOnlySpan<float> x, Span<float> y, float rate, uint seed, uint step)
    {
        fixed (float* px = x, py = y)
        {
            var job = new Job(px, py, x.Length, rate, Mix32(Mix32(seed ^ 0x9E3779B9u) ^ step));
            Workers.Run(&Part, &job, Workers.PartsFor(x.Length, 1 << 13));
        }
    }

    // Elements [lo, hi): y[i] = Keep(i) ? x[i] / keep : 0, eight hashes at a time: the same integer arithmetic, the
    // same float compare and division, so the same bits as the scalar tail, wherever a part starts.
    private static unsafe void Part(void* state, int part, int parts)
    {
        ref readonly var job = ref *(Job*)state;
        var (lo, hi) = Gemm.Range(job.Length, Vector256<float>.Count, part, parts);
        float* x = job.X, y = job.Y;
        var (rate, prefix) = (job.Rate, job.Prefix);
        var keep = 1f - rate;
        var i = lo;
        if (Vector256.IsHardwareAccelerated)
        {
            var (rates, keeps, scale) = (Vector256.Create(rate), Vector256.Create(keep), Vector256.Create(1f / 16777216f));
            for (; i <= hi - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var h = Mix32(Vector256.Create(prefix) ^ (Vector256.Create((uint)i) + Vector256<uint>.Indices));
                var uniform = Vector256.ConvertToSingle((h >> 8).AsInt32()) * scale;
                var kept = Vector256.Load(x + i) / keeps;
                Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(uniform, rates), kept, Vector256<float>.Zero).Store(y + i);
            }
        }
        for (; i < hi; i++)
        {
            y[i] = (Mix32(prefix ^ (uint)i) >> 8) * (1f / 16777216f) >= rate ? x[i] / keep : 0f;
        }
    }

    private static Vector256<uint> Mix32(Vector256<uint> x)
    {
        x ^= x >> 16;
        x *= Vector256.Create(0x7FEB352Du);
        x ^= x >> 15;
        x *= Vector256.Create(0x846CA68Bu);
        x ^= x >> 16;
        return x;
    }

    private static uint Mix32(uint x)
    {
        x ^= x >> 16;
        x *= 0x7FEB352Du;
        x ^= x >> 15;
        x *= 0x846CA68Bu;
        x ^= x >> 16;
        return x;
    }

    private readonly unsafe struct Job(float* x, float* y, int length, float rate, uint prefix)
    {
        public readonly float* X = x, Y = y;
        public readonly int Length = length;
        public readonly float Rate = rate;
        public readonly uint Prefix = prefix;
    }

    private static void CheckArguments(int inLength, int outLength, string outName, float rate)
    {
        Check.Length(outLength, inLength, outName);
        if (!(rate >= 0f && rate < 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(rate), rate, "The dropout rate must be in [0, 1).");
        }
    }
}

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Kiln.Runtime.Cpu;

/// <summary>Element-wise activations; mirror of Runtime.Cuda/Kernels/activations.cu.</summary>
public static class Activations
{
    /// <summary>y = f(y) in place: relu max(y, 0), sigmoid 1/(1 + e^−y), tanh.</summary>
    public static unsafe void Forward(Span<float> y, Epilogue act)
    {
        var parts = Parts(y.Length, act);
        if (parts == 1)
        {
            ForwardRange(y, act);
            return;
        }
        fixed (float* py = y)
        {
            var job = new Job(py, null, y.Length, act);
            Workers.Run(&ForwardPart, &job, parts);
        }
    }

    /// <summary>
    /// dy ·= f′ in place, with f′ written from the output y = f(z) (so z need not be kept): relu y &gt; 0,
    /// sigmoid y(1 − y), tanh 1 − y².
    /// </summary>
    public static unsafe void Backward(ReadOnlySpan<float> y, Span<float> dy, Epilogue act)
    {
        Check.Length(dy.Length, y.Length, nameof(dy));
        var parts = Parts(y.Length, act);
        if (parts == 1)
        {
            BackwardRange(y, dy, act);
            return;
        }
        fixed (float* py = y, pdy = dy)
        {
            var job = new Job(py, pdy, y.Length, act);
            Workers.Run(&BackwardPart, &job, parts);
        }
    }

    /// <summary>db[o] = Σ_r dz[r, o], rows in ascending order (a fixed reduction order; lanes run across o).</summary>
    internal static void BiasBackward(ReadOnlySpan<float> dz, Span<float> db)
    {
        const int lanes = 8;
        var n = db.Length;
        ref readonly var z = ref MemoryMarshal.GetReference(dz);
        var o = 0;
        // Four column vectors at a time, summed in registers: no store-to-load chain through db per row.
        for (; o <= n - 4 * lanes; o += 4 * lanes)
        {
            Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
            for (var r = o; r < dz.Length; r += n)
            {
                s0 += Vector256.LoadUnsafe(in z, (nuint)r);
                s1 += Vector256.LoadUnsafe(in z, (nuint)(r + lanes));
                s2 += Vector256.LoadUnsafe(in z, (nuint)(r + 2 * lanes));
                s3 += Vector256.LoadUnsafe(in z, (nuint)(r + 3 * lanes));
            }
            s0.CopyTo(db[o..]);
            s1.CopyTo(db[(o + lanes)..]);
            s2.CopyTo(db[(o + 2 * lanes)..]);
            s3.CopyTo(db[(o + 3 * lanes)..]);
        }
        for (; o <= n - lanes; o += lanes)
        {
            var sum = Vector256<float>.Zero;
            for (var r = o; r < dz.Length; r += n)
            {
                sum += Vector256.LoadUnsafe(in z, (nuint)r);
            }
            sum.CopyTo(db[o..]);
        }
        for (; o < n; o++)
        {
            var sum = 0f;
            for (var r = o; r < dz.Length; r += n)
            {
                sum += dz[r];
            }
            db[o] = sum;
        }
    }

    // Element-wise, so any split gives the serial bits. ReLU streams memory and is worth two cores from about 64K
    // elements; sigmoid and tanh cost an exp per element and are worth them much sooner.
    private static int Parts(int length, Epilogue act)
    {
        if (act is < Epilogue.Linear or > Epilogue.Tanh)
        {
            throw UnknownActivation(act);
        }
        return act == Epilogue.Linear ? 1 : Workers.PartsFor(length, act == Epilogue.Relu ? 1 << 15 : 1 << 11);
    }

    private static unsafe void ForwardPart(void* state, int part, int parts)
    {
        ref readonly var job = ref *(Job*)state;
        var (lo, hi) = Gemm.Range(job.Length, Vector256<float>.Count, part, parts);
        ForwardRange(new Span<float>(job.Y + lo, hi - lo), job.Act);
    }

    private static unsafe void BackwardPart(void* state, int part, int parts)
    {
        ref readonly var job = ref *(Job*)state;
        var (lo, hi) = Gemm.Range(job.Length, Vector256<float>.Count, part, parts);
        BackwardRange(new ReadOnlySpan<float>(job.Y + lo, hi - lo), new Span<float>(job.Dy + lo, hi - lo), job.Act);
    }

    private static void ForwardRange(Span<float> y, Epilogue act)
    {
        switch (act)
        {
            case Epilogue.Relu:
                ReluForward(y);
                return;
            case Epilogue.Sigmoid:
                for (var i = 0; i < y.Length; i++)
                {
                    y[i] = Sigmoid(y[i]);
                }
                return;
            case Epilogue.Tanh:
                for (var i = 0; i < y.Length; i++)
                {
                    y[i] = MathF.Tanh(y[i]);
                }
                return;
        }
    }

    private static void BackwardRange(ReadOnlySpan<float> y, Span<float> dy, Epilogue act)
    {
        switch (act)
        {
            case Epilogue.Relu:
                ReluBackward(y, dy);
                return;
            case Epilogue.Sigmoid:
                for (var i = 0; i < y.Length; i++)
                {
                    dy[i] *= y[i] * (1f - y[i]);
                }
                return;
            case Epilogue.Tanh:
                for (var i = 0; i < y.Length; i++)
                {
                    dy[i] *= 1f - y[i] * y[i];
                }
                return;
        }
    }

    // y > 0 ? y : 0, so NaN and −0 become +0 in both the vector and the scalar part.
    private static void ReluForward(Span<float> y)
    {
        ref var v = ref MemoryMarshal.GetReference(y);
        var i = 0;
        for (; i <= y.Length - Vector256<float>.Count; i += Vector256<float>.Count)
        {
            var x = Vector256.LoadUnsafe(ref v, (nuint)i);
            Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), x, Vector256<float>.Zero).StoreUnsafe(ref v, (nuint)i);
        }
        for (; i < y.Length; i++)
        {
            Unsafe.Add(ref v, i) = Relu(Unsafe.Add(ref v, i));
        }
    }

    private static void ReluBackward(ReadOnlySpan<float> y, Span<float> dy)
    {
        ref readonly var yv = ref MemoryMarshal.GetReference(y);
        ref var d = ref MemoryMarshal.GetReference(dy);
        var i = 0;
        for (; i <= y.Length - Vector256<float>.Count; i += Vector256<float>.Count)
        {
            var keep = Vector256.GreaterThan(Vector256.LoadUnsafe(in yv, (nuint)i), Vector256<float>.Zero);
            Vector256.ConditionalSelect(keep, Vector256.LoadUnsafe(ref d, (nuint)i), Vector256<float>.Zero).StoreUnsafe(ref d, (nuint)i);
        }
        for (; i < y.Length; i++)
        {
            Unsafe.Add(ref d, i) = Unsafe.Add(ref Unsafe.AsRef(in yv), i) > 0f ? Unsafe.Add(ref d, i) : 0f;
        }
    }

    private static float Relu(float v) => v > 0f ? v : 0f;

    private static float Sigmoid(float v) => 1f / (1f + MathF.Exp(-v));

    private readonly unsafe struct Job(float* y, float* dy, int length, Epilogue act)
    {
        public readonly float* Y = y, Dy = dy;
        public readonly int Length = length;
        public readonly Epilogue Act = act;
    }

    private static ArgumentOutOfRangeException UnknownActivation(Epilogue act) =>
        new(nameof(act), act, "Unknown activation.");
}

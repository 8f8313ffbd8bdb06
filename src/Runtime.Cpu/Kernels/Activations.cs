namespace Kiln.Runtime.Cpu;

/// <summary>Element-wise activations; mirror of Runtime.Cuda/Kernels/activations.cu.</summary>
public static class Activations
{
    /// <summary>y = f(y) in place: relu max(y, 0), sigmoid 1/(1 + e^−y), tanh.</summary>
    public static void Forward(Span<float> y, Epilogue act)
    {
        switch (act)
        {
            case Epilogue.Linear:
                return;
            case Epilogue.Relu:
                for (var i = 0; i < y.Length; i++)
                {
                    y[i] = Relu(y[i]);
                }
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
            default:
                throw UnknownActivation(act);
        }
    }

    /// <summary>
    /// dy ·= f′ in place, with f′ written from the output y = f(z) (so z need not be kept): relu y &gt; 0,
    /// sigmoid y(1 − y), tanh 1 − y².
    /// </summary>
    public static void Backward(ReadOnlySpan<float> y, Span<float> dy, Epilogue act)
    {
        Check.Length(dy.Length, y.Length, nameof(dy));
        switch (act)
        {
            case Epilogue.Linear:
                return;
            case Epilogue.Relu:
                for (var i = 0; i < y.Length; i++)
                {
                    dy[i] = y[i] > 0f ? dy[i] : 0f;
                }
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
            default:
                throw UnknownActivation(act);
        }
    }

    /// <summary>The forward epilogue of Dense and Conv2D: y[r, o] = f(y[r, o] + bias[o]) over rows of bias.Length.</summary>
    internal static void BiasForward(Span<float> y, ReadOnlySpan<float> bias, Epilogue act)
    {
        var n = bias.Length;
        for (var r = 0; r < y.Length; r += n)
        {
            var row = y.Slice(r, n);
            for (var o = 0; o < n; o++)
            {
                row[o] += bias[o];
            }
        }
        Forward(y, act);
    }

    /// <summary>db[o] = Σ_r dz[r, o], rows in ascending order (a fixed reduction order).</summary>
    internal static void BiasBackward(ReadOnlySpan<float> dz, Span<float> db)
    {
        db.Clear();
        var n = db.Length;
        for (var r = 0; r < dz.Length; r += n)
        {
            var row = dz.Slice(r, n);
            for (var o = 0; o < n; o++)
            {
                db[o] += row[o];
            }
        }
    }

    private static float Relu(float v) => v > 0f ? v : 0f;

    private static float Sigmoid(float v) => 1f / (1f + MathF.Exp(-v));

    private static ArgumentOutOfRangeException UnknownActivation(Epilogue act) =>
        new(nameof(act), act, "Unknown activation.");
}

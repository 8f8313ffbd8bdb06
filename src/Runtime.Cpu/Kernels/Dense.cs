namespace Kiln.Runtime.Cpu;

/// <summary>
/// Fully connected layer; mirror of Runtime.Cuda/Kernels/dense.cu. x [batch, inF], w [inF, outF] (Keras kernel
/// layout), bias [outF], y [batch, outF]. Every product goes through <see cref="Gemm"/>.
/// </summary>
public static class Dense
{
    /// <summary>y[b, o] = act(Σ_i x[b, i]·w[i, o] + bias[o]).</summary>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, int batch, int inF, int outF, Epilogue act)
    {
        CheckShapes(batch, inF, outF, x.Length, nameof(x), w.Length, nameof(w), y.Length, nameof(y));
        Check.Length(bias.Length, outF, nameof(bias));
        Gemm.MultiplyBias(batch, outF, inF, x, inF, w, outF, y, outF, bias, act);
    }

    /// <summary>dx[b, i] = Σ_o dz[b, o]·w[i, o] (dz is the gradient after the activation).</summary>
    public static void BackwardData(ReadOnlySpan<float> dz, ReadOnlySpan<float> w, Span<float> dx, int batch, int inF, int outF)
    {
        CheckShapes(batch, inF, outF, dx.Length, nameof(dx), w.Length, nameof(w), dz.Length, nameof(dz));
        Gemm.MultiplyTransposeB(batch, inF, outF, dz, outF, w, outF, dx, inF);
    }

    /// <summary>dw[i, o] = Σ_b x[b, i]·dz[b, o]; db[o] = Σ_b dz[b, o]. Both overwritten.</summary>
    public static void BackwardWeights(ReadOnlySpan<float> x, ReadOnlySpan<float> dz, Span<float> dw, Span<float> db, int batch, int inF, int outF)
    {
        CheckShapes(batch, inF, outF, x.Length, nameof(x), dw.Length, nameof(dw), dz.Length, nameof(dz));
        Check.Length(db.Length, outF, nameof(db));
        Gemm.MultiplyTransposeA(inF, outF, batch, x, inF, dz, outF, dw, outF);
        Activations.BiasBackward(dz, db);
    }

    private static void CheckShapes(int batch, int inF, int outF, int inLength, string inName, int wLength, string wName, int outLength, string outName)
    {
        Check.Positive(batch, nameof(batch));
        Check.Positive(inF, nameof(inF));
        Check.Positive(outF, nameof(outF));
        Check.Length(inLength, (long)batch * inF, inName);
        Check.Length(wLength, (long)inF * outF, wName);
        Check.Length(outLength, (long)batch * outF, outName);
    }
}

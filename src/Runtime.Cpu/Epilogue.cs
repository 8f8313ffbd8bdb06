namespace Kiln.Runtime.Cpu;

/// <summary>
/// An element-wise activation, fused into a forward kernel after the bias or run as a layer of its own
/// (<see cref="Activations"/>). The codes equal <c>Kiln.Activation</c>'s and the CUDA kernels' <c>ACT_*</c> codes, so a
/// generator converts by a cast; 4 is <c>Activation.Softmax</c>, which is not element-wise and has no epilogue.
/// </summary>
/// <remarks>
/// Fused kernels use Keras' default parameters (LeakyReLU slope 0.2, ELU alpha 1); a standalone layer passes its own
/// to <see cref="Activations.Forward(ReadOnlySpan{float}, Span{float}, Epilogue, float)"/>. Every forward kernel accepts
/// every code; the backward kernels that see only the output (<see cref="Activations.Backward(ReadOnlySpan{float}, Span{float}, Epilogue)"/>
/// and the fused backward-through-pool paths) refuse <see cref="Gelu"/> and <see cref="Swish"/>, whose derivative is
/// not a function of the output (<see cref="Activations.BackwardNeedsInput"/>).
/// </remarks>
public enum Epilogue
{
    /// <summary>x.</summary>
    Linear = 0,

    /// <summary>max(x, 0).</summary>
    Relu = 1,

    /// <summary>1 / (1 + e^−x).</summary>
    Sigmoid = 2,

    /// <summary>tanh x.</summary>
    Tanh = 3,

    /// <summary>x if x &gt; 0, else slope·x (fused: slope 0.2, Keras' <c>leaky_relu</c> default).</summary>
    LeakyRelu = 5,

    /// <summary>x if x &gt; 0, else alpha·(eˣ − 1) (fused: alpha 1).</summary>
    Elu = 6,

    /// <summary>Exact GELU, x·Φ(x) = ½·x·erfc(−x/√2) (Keras' default <c>approximate=False</c>).</summary>
    Gelu = 7,

    /// <summary>Swish / SiLU, x·sigmoid(x).</summary>
    Swish = 8,

    /// <summary>log(1 + eˣ), computed as max(x, 0) + log1p(e^−|x|).</summary>
    Softplus = 9,
}

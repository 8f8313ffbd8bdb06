using Kiln.Runtime.Cpu;

namespace Kiln.Oracles;

/// <summary>Keras 3's activations in float64; alpha is the LeakyReLU slope or the ELU alpha (fused defaults 0.2 and 1).</summary>
public static class ActivationReference
{
    public static double Apply(double z, Epilogue act) => Apply(z, act, DefaultAlpha(act));

    public static double Apply(double z, Epilogue act, double alpha) => act switch
    {
        Epilogue.Relu => z > 0 ? z : 0,
        Epilogue.Sigmoid => 1 / (1 + Math.Exp(-z)),
        Epilogue.Tanh => Math.Tanh(z),
        Epilogue.LeakyRelu => z > 0 ? z : alpha * z,
        Epilogue.Elu => z > 0 ? z : alpha * (Math.Exp(z) - 1),
        Epilogue.Gelu => 0.5 * z * ErfReference.Erfc(-z / Math.Sqrt(2)),
        Epilogue.Swish => z / (1 + Math.Exp(-z)),
        Epilogue.Softplus => Math.Max(z, 0) + Log1P(Math.Exp(-Math.Abs(z))),
        _ => z,
    };

    /// <summary>dy·f′ from the output y (all but Gelu and Swish), with the fused parameters.</summary>
    public static double GradientFromOutput(double y, double dy, Epilogue act) => act switch
    {
        Epilogue.Relu => y > 0 ? dy : 0,
        Epilogue.Sigmoid => dy * y * (1 - y),
        Epilogue.Tanh => dy * (1 - y * y),
        Epilogue.LeakyRelu => y > 0 ? dy : dy * DefaultAlpha(act),
        Epilogue.Elu => y > 0 ? dy : dy * (y + DefaultAlpha(act)),
        Epilogue.Softplus => dy * (1 - Math.Exp(-y)),
        Epilogue.Gelu or Epilogue.Swish => throw new ArgumentException($"{act}'s derivative needs the input.", nameof(act)),
        _ => dy,
    };

    public static double[] Apply(double[] z, Epilogue act) => z.Select(v => Apply(v, act)).ToArray();

    public static double[] Apply(double[] z, Epilogue act, double alpha) => z.Select(v => Apply(v, act, alpha)).ToArray();

    // ln(1 + t) for 0 ≤ t ≤ 1: three series terms below 1e-5 (error under t⁴/4 ≈ 1e-20·t), the library above.
    private static double Log1P(double t) => t < 1e-5 ? t - t * t / 2 + t * t * t / 3 : Math.Log(1 + t);

    public static double DefaultAlpha(Epilogue act) => act switch
    {
        Epilogue.LeakyRelu => 0.2,
        Epilogue.Elu => 1.0,
        _ => 0.0,
    };

    /// <summary>Every element-wise activation code (4, softmax, is not one).</summary>
    public static readonly Epilogue[] All =
    [
        Epilogue.Linear, Epilogue.Relu, Epilogue.Sigmoid, Epilogue.Tanh, Epilogue.LeakyRelu, Epilogue.Elu, Epilogue.Gelu, Epilogue.Swish, Epilogue.Softplus,
    ];
}

using System.Globalization;
using Kiln.Generator.Model;

namespace Kiln.Generator.Emitters;

/// <summary>How numbers, shapes and runtime names are written into generated code (invariant culture throughout).</summary>
internal static class Code
{
    public const string Cpu = "global::Kiln.Runtime.Cpu";
    public const string CudaGeometry = "global::Kiln.Runtime.Cuda.KernelGeometry";

    public static string I(int value) => value.ToString(CultureInfo.InvariantCulture);
    public static string I(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>A float as written in C# (<c>0.5f</c> is written <c>0.5</c>; callers add the suffix).</summary>
    public static string F(double value) => ((float)value).ToString("R", CultureInfo.InvariantCulture);

    public static string Dims(Shape s) => s.Rank == 1 ? $"{s.D0}" : $"{s.D0}, {s.D1}, {s.D2}";

    /// <summary>A string literal (names are identifiers or Keras words, so no escaping is needed).</summary>
    public static string Str(string value) => $"\"{value}\"";

    /// <summary>The CPU epilogue that applies <paramref name="activation"/> (softmax is the loss's, so linear here).</summary>
    public static string Epilogue(Activation activation) =>
        $"{Cpu}.Epilogue.{(activation == Activation.Softmax ? Activation.Linear : activation)}";

    /// <summary>Keras' activation name: <c>relu</c>, <c>leaky_relu</c>, …</summary>
    public static string KerasName(Activation activation) => activation switch
    {
        Activation.LeakyRelu => "leaky_relu",
        Activation.Swish => "silu",
        _ => activation.ToString().ToLowerInvariant(),
    };

    /// <summary>
    /// Whether the activation's derivative is a function of its output, so a fused epilogue can be undone in place;
    /// GELU and Swish need their input and run as a separate step that keeps it.
    /// </summary>
    public static bool DerivativeFromOutput(Activation activation) => activation is not (Activation.Gelu or Activation.Swish);

    /// <summary>Codes of the Act template parameter in Kernels/00_common.cu: Kiln.Activation's own (softmax is the loss's, so linear).</summary>
    public static int ActCode(Activation a) => a == Activation.Softmax ? 0 : (int)a;

    /// <summary>Keras' function defaults: LeakyReLU's slope 0.2, ELU's alpha 1.</summary>
    public static double DefaultAlpha(Activation a) => a switch
    {
        Activation.LeakyRelu => 0.2,
        Activation.Elu => 1.0,
        _ => 0.0,
    };
}

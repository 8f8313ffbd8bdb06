namespace Kiln;

/// <summary>Where a network runs.</summary>
public enum DeviceKind
{
    Cpu,
    Cuda,
    /// <summary>CUDA when a usable GPU and NVRTC are present, else the CPU with a one-line notice.</summary>
    Auto,
}

/// <summary>The device a network is created on; the default is the CPU.</summary>
public readonly record struct Device(DeviceKind Kind, int Ordinal = 0)
{
    public static Device Cpu => new(DeviceKind.Cpu);
    public static Device Cuda => new(DeviceKind.Cuda);
    public static Device Auto => new(DeviceKind.Auto);

    /// <summary>A specific GPU, by CUDA ordinal.</summary>
    public static Device CudaOrdinal(int ordinal) =>
        ordinal >= 0 ? new(DeviceKind.Cuda, ordinal) : throw new ArgumentOutOfRangeException(nameof(ordinal), ordinal, "A CUDA ordinal is 0 or more.");

    /// <summary>Parses <c>cpu</c>, <c>cuda</c>, <c>cuda:N</c> or <c>auto</c> (case-insensitive).</summary>
    public static Device Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var value = text.Trim().ToLowerInvariant();
        if (value == "cpu") return Cpu;
        if (value == "auto") return Auto;
        if (value == "cuda" || value == "gpu") return Cuda;
        if (value.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(value.AsSpan(5), System.Globalization.CultureInfo.InvariantCulture, out var ordinal) && ordinal >= 0)
        {
            return CudaOrdinal(ordinal);
        }
        throw new FormatException($"Unknown device '{text}': expected cpu, cuda, cuda:N or auto.");
    }

    public override string ToString() => Kind switch
    {
        DeviceKind.Cuda => Ordinal == 0 ? "cuda" : $"cuda:{Ordinal}",
        DeviceKind.Auto => "auto",
        _ => "cpu",
    };
}

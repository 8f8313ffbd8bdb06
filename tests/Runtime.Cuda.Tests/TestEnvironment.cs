using Kiln.Runtime.Cuda;

namespace Kiln.Runtime.Cuda.Tests;

/// <summary>What this machine offers, probed once.</summary>
internal static class TestEnvironment
{
    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static readonly bool HasNvrtc = Nvrtc.IsAvailable(out NvrtcReason);
    public static readonly string NvrtcReason;

    public static readonly bool HasDevice = CudaDevice.IsAvailable(out DeviceReason);
    public static readonly string DeviceReason;
}

/// <summary>
/// A fact that needs NVRTC: skipped with the probe's reason where NVRTC is missing, except under CI=true, where a
/// missing NVRTC must fail (CI installs it with .ci/install-nvrtc.sh).
/// </summary>
public sealed class NvrtcFactAttribute : FactAttribute
{
    public NvrtcFactAttribute()
    {
        if (!TestEnvironment.HasNvrtc && !TestEnvironment.IsCi)
        {
            Skip = "NVRTC not available: " + TestEnvironment.NvrtcReason;
        }
    }
}

/// <inheritdoc cref="NvrtcFactAttribute"/>
public sealed class NvrtcTheoryAttribute : TheoryAttribute
{
    public NvrtcTheoryAttribute()
    {
        if (!TestEnvironment.HasNvrtc && !TestEnvironment.IsCi)
        {
            Skip = "NVRTC not available: " + TestEnvironment.NvrtcReason;
        }
    }
}

/// <summary>A fact that runs kernels: skipped with "no CUDA device: reason" where there is none (CI included), or without NVRTC.</summary>
public sealed class CudaFactAttribute : FactAttribute
{
    public CudaFactAttribute()
    {
        if (!TestEnvironment.HasDevice)
        {
            Skip = "no CUDA device: " + TestEnvironment.DeviceReason;
        }
        else if (!TestEnvironment.HasNvrtc)
        {
            Skip = "NVRTC not available: " + TestEnvironment.NvrtcReason;
        }
    }
}

/// <inheritdoc cref="CudaFactAttribute"/>
public sealed class CudaTheoryAttribute : TheoryAttribute
{
    public CudaTheoryAttribute()
    {
        if (!TestEnvironment.HasDevice)
        {
            Skip = "no CUDA device: " + TestEnvironment.DeviceReason;
        }
        else if (!TestEnvironment.HasNvrtc)
        {
            Skip = "NVRTC not available: " + TestEnvironment.NvrtcReason;
        }
    }
}

/// <summary>A fact about the no-GPU path: skipped where a CUDA device is present.</summary>
public sealed class NoCudaFactAttribute : FactAttribute
{
    public NoCudaFactAttribute()
    {
        if (TestEnvironment.HasDevice)
        {
            Skip = "a CUDA device is present here";
        }
    }
}

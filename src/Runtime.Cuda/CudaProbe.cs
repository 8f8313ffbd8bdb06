namespace Kiln.Runtime.Cuda;

/// <summary>
/// Whether the CUDA runtime can run a network here: a GPU through libcuda and a loadable NVRTC. Stateless; any
/// thread may call it (the driver and NVRTC are each loaded once, thread-safely).
/// </summary>
public static class CudaProbe
{
    /// <summary>True when device <paramref name="ordinal"/> and NVRTC are usable; otherwise <paramref name="reason"/> says what is missing.</summary>
    public static bool IsUsable(int ordinal, out string reason)
    {
        if (!CudaDevice.IsAvailable(out reason) || !Nvrtc.IsAvailable(out reason))
        {
            return false;
        }
        var count = CudaDevice.Count;
        if (ordinal >= count)
        {
            reason = $"CUDA device {ordinal} was requested, but the driver reports {count} device(s)";
            return false;
        }
        return true;
    }
}

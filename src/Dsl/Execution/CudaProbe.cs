using Kiln.Runtime.Cuda;

namespace Kiln.Execution;

/// <summary>Whether the CUDA runtime can run a network here: a GPU through libcuda and a loadable NVRTC.</summary>
internal static class CudaProbe
{
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

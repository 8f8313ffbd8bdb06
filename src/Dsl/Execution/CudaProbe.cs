namespace Kiln.Execution;

/// <summary>Whether the CUDA runtime can run a network here: a GPU through libcuda and a loadable NVRTC.</summary>
internal static class CudaProbe
{
    public static bool IsUsable(int ordinal, out string reason)
    {
        reason = "the CUDA executor is not built yet";
        return ordinal < 0;
    }
}

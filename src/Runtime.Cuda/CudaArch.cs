using System.Globalization;

namespace Kiln.Runtime.Cuda;

/// <summary>An NVRTC target: <c>sm_XX</c> (CUBIN) or <c>compute_XX</c> (PTX).</summary>
public readonly record struct CudaTarget(string Arch, bool IsCubin)
{
    public override string ToString() => Arch;
}

/// <summary>Chooses what to compile for a card.</summary>
public static class CudaArch
{
    /// <summary>
    /// The target for a card of compute capability <paramref name="computeCapability"/> (major·10 + minor, e.g. 90):
    /// <c>sm_XX</c> CUBIN when NVRTC supports that arch (its <c>nvrtcGetSupportedArchs</c> list, or, when it has none,
    /// what its version is known to support) and can emit CUBIN; otherwise <c>compute_XX</c> PTX for the highest
    /// supported arch not above the card, which the driver JIT-compiles.
    /// </summary>
    public static CudaTarget Select(int computeCapability, IReadOnlyList<int> supportedArchs, int nvrtcMajor, int nvrtcMinor, bool cubinAvailable)
    {
        ArgumentNullException.ThrowIfNull(supportedArchs);
        IReadOnlyList<int> archs = supportedArchs.Count > 0 ? supportedArchs : KnownArchs(nvrtcMajor, nvrtcMinor);
        if (cubinAvailable && archs.Contains(computeCapability))
        {
            return new CudaTarget("sm_" + computeCapability.ToString(CultureInfo.InvariantCulture), true);
        }
        int best = -1;
        foreach (var a in archs)
        {
            if (a <= computeCapability && a > best)
            {
                best = a;
            }
        }
        if (best < 0)
        {
            throw new NvrtcException($"NVRTC {nvrtcMajor}.{nvrtcMinor} supports no architecture at or below compute capability {computeCapability / 10}.{computeCapability % 10} (it supports: {string.Join(", ", archs)})");
        }
        return new CudaTarget("compute_" + best.ToString(CultureInfo.InvariantCulture), false);
    }

    /// <summary>The target for <paramref name="device"/> with the NVRTC loaded in this process.</summary>
    public static CudaTarget Select(CudaDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        var v = Nvrtc.Version;
        return Select(device.ComputeCapability, Nvrtc.SupportedArchs, v.Major, v.Minor, Nvrtc.CanEmitCubin);
    }

    /// <summary>Real architectures each NVRTC release accepts, for releases that cannot list them (before 11.2).</summary>
    internal static IReadOnlyList<int> KnownArchs(int major, int minor)
    {
        int max = (major, minor) switch
        {
            ( >= 13, _) => 121,
            (12, >= 9) => 121,
            (12, >= 8) => 120,
            (12, _) => 90,
            (11, >= 8) => 90,
            (11, >= 1) => 86,
            (11, 0) => 80,
            (10, _) => 75,
            _ => 70,
        };
        int min = major >= 13 ? 75 : major >= 12 ? 50 : major >= 11 ? 35 : 30;
        int[] all = [30, 32, 35, 37, 50, 52, 53, 60, 61, 62, 70, 72, 75, 80, 86, 87, 89, 90, 100, 101, 103, 120, 121];
        return all.Where(a => a >= min && a <= max).ToArray();
    }
}

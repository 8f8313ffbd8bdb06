using Kiln.Runtime.Cuda;

namespace Kiln.Runtime.Cuda.Tests;

public sealed class CudaArchTests
{
    [Fact]
    public void A_supported_card_gets_a_cubin_for_its_own_arch()
    {
        var target = CudaArch.Select(90, [75, 80, 86, 89, 90], 11, 8, cubinAvailable: true);
        Assert.Equal(new CudaTarget("sm_90", true), target);
    }

    [Fact]
    public void A_card_newer_than_nvrtc_gets_ptx_of_the_highest_arch_below_it()
    {
        Assert.Equal(new CudaTarget("compute_90", false), CudaArch.Select(120, [75, 80, 86, 89, 90], 11, 8, true));
        Assert.Equal(new CudaTarget("compute_80", false), CudaArch.Select(89, [75, 80, 90], 11, 8, true));
        Assert.Equal(new CudaTarget("compute_86", false), CudaArch.Select(89, [75, 80, 86, 90], 11, 8, true));
    }

    [Fact]
    public void Without_cubin_support_everything_is_ptx()
    {
        Assert.Equal(new CudaTarget("compute_80", false), CudaArch.Select(80, [], 11, 0, cubinAvailable: false));
    }

    [Fact]
    public void Without_an_arch_list_the_version_decides()
    {
        Assert.Equal(new CudaTarget("sm_90", true), CudaArch.Select(90, [], 11, 8, true));
        Assert.Equal(new CudaTarget("compute_86", false), CudaArch.Select(90, [], 11, 2, true));
        Assert.Equal(new CudaTarget("sm_90", true), CudaArch.Select(90, [], 12, 4, true));
    }

    [Fact]
    public void A_card_older_than_every_supported_arch_is_an_error()
    {
        var e = Assert.Throws<NvrtcException>(() => CudaArch.Select(35, [75, 80], 13, 0, true));
        Assert.Contains("3.5", e.Message, StringComparison.Ordinal);
    }

    [NvrtcFact]
    public void The_installed_nvrtc_targets_hopper()
    {
        var v = Nvrtc.Version;
        var target = CudaArch.Select(90, Nvrtc.SupportedArchs, v.Major, v.Minor, Nvrtc.CanEmitCubin);
        Assert.Equal("sm_90", target.Arch);
    }
}

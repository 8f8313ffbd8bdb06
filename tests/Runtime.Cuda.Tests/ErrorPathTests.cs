using Kiln.Runtime.Cuda;

namespace Kiln.Runtime.Cuda.Tests;

public sealed class ErrorPathTests
{
    [NvrtcFact]
    public void A_syntax_error_surfaces_the_whole_nvrtc_log()
    {
        const string source = "namespace kiln {\n__global__ void broken(float* y)\n{\n    y[0] = ;\n}\n}\n";
        var e = Assert.Throws<NvrtcException>(() => Nvrtc.Compile(source, "broken_kernel.cu", ["kiln::broken"], "sm_80"));

        Assert.Equal("nvrtcCompileProgram", e.Call);
        Assert.Equal("NVRTC_ERROR_COMPILATION", e.ErrorName);
        Assert.Contains("broken_kernel.cu(4): error", e.Log, StringComparison.Ordinal);
        Assert.Contains("broken_kernel.cu(4): error", e.Message, StringComparison.Ordinal);
        Assert.Contains("expected an expression", e.Message, StringComparison.Ordinal);
        Assert.Contains("nvrtcCompileProgram", e.Message, StringComparison.Ordinal);
    }

    [NvrtcFact]
    public void An_error_in_a_library_file_names_that_file_and_line()
    {
        var source = KernelSources.All + "#line 1 \"extra.cu\"\nnamespace kiln { __global__ void k() { undefined_thing(); } }\n";
        var e = Assert.Throws<NvrtcException>(() => Nvrtc.Compile(source, "kiln.cu", [], "compute_80"));
        Assert.Contains("extra.cu(1): error", e.Message, StringComparison.Ordinal);
    }

    [NvrtcFact]
    public void An_unknown_name_expression_is_reported()
    {
        var e = Assert.ThrowsAny<NvrtcException>(() => Nvrtc.Compile(KernelSources.All, "kiln.cu", ["kiln::no_such_kernel<1>"], "sm_80"));
        Assert.Contains("no_such_kernel", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_malformed_arch_is_rejected_before_nvrtc()
    {
        var e = Assert.Throws<ArgumentException>(() => Nvrtc.Compile("", "x.cu", [], "hopper"));
        Assert.Contains("sm_90", e.Message, StringComparison.Ordinal);
    }

    [NoCudaFact]
    public void Without_a_driver_the_device_probe_says_why()
    {
        Assert.False(CudaDevice.IsAvailable(out var reason));
        Assert.False(string.IsNullOrWhiteSpace(reason));
        if (!Kiln.Runtime.Cuda.Interop.DriverApi.TryGet(out _, out _))
        {
            Assert.Contains("libcuda.so.1", reason, StringComparison.Ordinal);
            Assert.Contains("tried", reason, StringComparison.Ordinal);
        }
    }

    [NoCudaFact]
    public void Without_a_driver_a_context_cannot_be_created()
    {
        var e = Assert.Throws<CudaException>(() => new CudaContext(0));
        Assert.False(string.IsNullOrWhiteSpace(e.Message));
        if (!Kiln.Runtime.Cuda.Interop.DriverApi.TryGet(out _, out _))
        {
            Assert.Equal("dlopen", e.Call);
            Assert.Contains("libcuda.so.1", e.Message, StringComparison.Ordinal);
            Assert.Contains("NVIDIA driver", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Nvrtc_probe_tries_the_environment_variable_first()
    {
        var candidates = Kiln.Runtime.Cuda.Interop.NvrtcApi.Candidates();
        Assert.Contains("libnvrtc.so.13", candidates);
        Assert.Contains("libnvrtc.so.12", candidates);
        Assert.Contains("libnvrtc.so.11.2", candidates);
        Assert.Contains("/usr/local/cuda/lib64/libnvrtc.so.12", candidates);
    }
}

using Kiln.Runtime.Cuda;

namespace Kiln.Runtime.Cuda.Tests;

public sealed class KernelCompileTests
{
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var net in new[] { "iris", "mnist", "odd", "layers" })
        {
            foreach (var arch in new[] { "sm_80", "sm_90" })
            {
                data.Add(net, arch);
            }
        }
        return data;
    }

    private static string[] Names(string net) => net switch
    {
        "iris" => Networks.Iris,
        "mnist" => Networks.Mnist,
        "layers" => Networks.Layers,
        _ => Networks.Odd,
    };

    [NvrtcTheory]
    [MemberData(nameof(Cases))]
    public void Every_kernel_file_compiles_for_the_network(string net, string arch)
    {
        var names = Names(net).Distinct().ToArray();
        var program = Nvrtc.Compile(KernelSources.All, $"kiln_{net}.cu", names, arch);

        Assert.True(program.Image.Length > 0, "empty image");
        Assert.Equal(names.Length, program.LoweredNames.Count);
        foreach (var name in names)
        {
            var lowered = program.GetLoweredName(name);
            Assert.StartsWith("_Z", lowered, StringComparison.Ordinal);
        }
        Assert.True(program.IsCubin, $"{arch} should give a CUBIN with NVRTC {Nvrtc.Version}");
        Assert.Equal(arch, program.Arch);
        // A CUBIN is an ELF file.
        Assert.True(program.Image[..4].SequenceEqual("\u007fELF"u8), "CUBIN is not ELF");
    }

    [NvrtcFact]
    public void Compiling_twice_gives_the_same_bits()
    {
        var a = Nvrtc.Compile(KernelSources.All, "kiln.cu", Networks.Iris, "sm_80");
        var b = Nvrtc.Compile(KernelSources.All, "kiln.cu", Networks.Iris, "sm_80");
        Assert.True(a.Image.SequenceEqual(b.Image), "NVRTC output differs between two compilations of the same program");
    }

    [NvrtcFact]
    public void Ptx_for_a_virtual_arch_is_text_naming_every_kernel()
    {
        var names = Networks.All;
        var program = Nvrtc.Compile(KernelSources.All, "kiln_all.cu", names, "compute_80");

        Assert.False(program.IsCubin);
        Assert.Equal(0, program.Image[^1]);
        var ptx = System.Text.Encoding.UTF8.GetString(program.Image[..^1]);
        Assert.Contains(".target sm_80", ptx, StringComparison.Ordinal);
        foreach (var name in names)
        {
            Assert.Contains(".entry " + program.GetLoweredName(name), ptx, StringComparison.Ordinal);
        }
        // No atomics anywhere in the library: reductions have a fixed order.
        Assert.DoesNotMatch(@"\s(atom|red)\.", ptx);
    }

    [NvrtcFact]
    public void The_gpu_test_instantiations_compile()
    {
        var names = Networks.All.Concat(GpuHarness.TestKernels).Distinct().ToArray();
        var program = Nvrtc.Compile(KernelSources.All, "kiln_tests.cu", names, "sm_90");
        Assert.Equal(names.Length, program.LoweredNames.Count);
    }

    [NvrtcTheory]
    [InlineData(7)]
    [InlineData(8)]
    public void A_backward_from_the_output_for_gelu_or_swish_does_not_compile(int act)
    {
        // Their derivative needs the input: the library refuses the instantiation instead of computing a wrong gradient.
        var e = Assert.Throws<NvrtcException>(() => Nvrtc.Compile(KernelSources.All, "kiln_bad.cu", [$"kiln::activation_backward<37,{act}>"], "sm_80"));
        Assert.Contains("Gelu and Swish need the input", e.Message, StringComparison.Ordinal);
    }

    [NvrtcFact]
    public void Nvrtc_reports_its_version_and_supports_sm_80()
    {
        var version = Nvrtc.Version;
        Assert.True(version.Major >= 11, $"NVRTC {version}");
        var archs = Nvrtc.SupportedArchs;
        if (archs.Count > 0)
        {
            Assert.Contains(80, archs);
        }
    }

    [Fact]
    public void Kernel_sources_are_embedded_with_common_first()
    {
        var files = KernelSources.FileNames;
        Assert.Equal("00_common.cu", files[0]);
        foreach (var f in new[] { "dense.cu", "conv2d.cu", "maxpool2d.cu", "activations.cu", "dropout.cu", "softmax_xent.cu", "mse.cu", "mae.cu", "adam.cu", "sgd.cu", "rmsprop.cu", "adagrad.cu", "clip.cu", "sigmoid_bce.cu", "batchnorm.cu", "avgpool2d.cu", "global_pool2d.cu", "rescaling.cu" })
        {
            Assert.Contains(f, files);
        }
        Assert.DoesNotMatch(@"(?m)^\s*#\s*include", KernelSources.All);
        Assert.DoesNotMatch(@"atomic[A-Z]", KernelSources.All);
        Assert.StartsWith("#line 1 \"00_common.cu\"", KernelSources.All, StringComparison.Ordinal);
    }
}

using Kiln.Runtime.Cuda;

namespace Kiln.Runtime.Cuda.Tests;

public sealed class ModuleCacheTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "kiln-cache-test-" + Guid.NewGuid().ToString("N"));

    // Small, distinct per test instance so parallel tests never share an entry.
    private readonly string _source = KernelSources.Concatenate(["activations.cu"]) + $"\n// {Guid.NewGuid():N}\n";
    private static readonly string[] Names = ["kiln::activation_forward<12,1>", "kiln::activation_backward<12,3>"];

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [NvrtcFact]
    public void The_second_compile_of_the_same_source_is_a_memory_hit()
    {
        var cache = new ModuleCache(_directory);
        var first = cache.GetOrCompile(_source, "act.cu", Names, "sm_80");
        var second = cache.GetOrCompile(_source, "act.cu", Names, "sm_80");

        Assert.Same(first, second);
        Assert.Equal(1, cache.Compilations);
        Assert.Equal(1, cache.MemoryHits);
    }

    [NvrtcFact]
    public void A_new_process_reads_the_entry_from_disk_without_nvrtc()
    {
        var first = new ModuleCache(_directory).GetOrCompile(_source, "act.cu", Names, "sm_80");
        var cache = new ModuleCache(_directory);
        var second = cache.GetOrCompile(_source, "act.cu", Names, "sm_80");

        Assert.Equal(0, cache.Compilations);
        Assert.Equal(1, cache.DiskHits);
        Assert.True(first.Image.SequenceEqual(second.Image));
        Assert.Equal(first.IsCubin, second.IsCubin);
        Assert.Equal(first.Arch, second.Arch);
        foreach (var name in Names)
        {
            Assert.Equal(first.GetLoweredName(name), second.GetLoweredName(name));
        }
        Assert.Empty(Directory.GetFiles(_directory, "*.tmp"));
    }

    [NvrtcTheory]
    [InlineData("flip")]
    [InlineData("truncate")]
    [InlineData("empty")]
    [InlineData("garbage")]
    public void A_corrupt_entry_is_ignored_and_rebuilt(string damage)
    {
        var original = new ModuleCache(_directory).GetOrCompile(_source, "act.cu", Names, "sm_80");
        var file = Assert.Single(Directory.GetFiles(_directory, "*.kcubin"));
        var bytes = File.ReadAllBytes(file);
        switch (damage)
        {
            case "flip":
                bytes[bytes.Length / 2] ^= 0x5A;
                File.WriteAllBytes(file, bytes);
                break;
            case "truncate":
                File.WriteAllBytes(file, bytes[..(bytes.Length - 40)]);
                break;
            case "empty":
                File.WriteAllBytes(file, []);
                break;
            default:
                File.WriteAllText(file, "not a cache entry at all, but long enough to have a header and a checksum..........");
                break;
        }

        var cache = new ModuleCache(_directory);
        var rebuilt = cache.GetOrCompile(_source, "act.cu", Names, "sm_80");

        Assert.Equal(1, cache.Compilations);
        Assert.Equal(0, cache.DiskHits);
        Assert.True(original.Image.SequenceEqual(rebuilt.Image));
        // The rewritten entry is whole again.
        var again = new ModuleCache(_directory);
        again.GetOrCompile(_source, "act.cu", Names, "sm_80");
        Assert.Equal(1, again.DiskHits);
    }

    [NvrtcFact]
    public void A_different_arch_is_a_different_entry()
    {
        var cache = new ModuleCache(_directory);
        var a = cache.GetOrCompile(_source, "act.cu", Names, "sm_80");
        var b = cache.GetOrCompile(_source, "act.cu", Names, "sm_90");

        Assert.Equal(2, cache.Compilations);
        Assert.Equal("sm_80", a.Arch);
        Assert.Equal("sm_90", b.Arch);
        Assert.Equal(2, Directory.GetFiles(_directory, "*.kcubin").Length);
    }

    [Fact]
    public void The_key_covers_source_names_version_arch_and_options()
    {
        string Key(string source = "s", string[]? names = null, string version = "11.8", string arch = "sm_80", string[]? options = null) =>
            ModuleCache.ComputeKey(source, names ?? ["a"], version, arch, options ?? []);

        var baseline = Key();
        Assert.Equal(baseline, Key());
        Assert.Equal(64, baseline.Length);
        Assert.NotEqual(baseline, Key(arch: "sm_90"));
        Assert.NotEqual(baseline, Key(arch: "compute_80"));
        Assert.NotEqual(baseline, Key(source: "t"));
        Assert.NotEqual(baseline, Key(names: ["b"]));
        Assert.NotEqual(baseline, Key(names: ["a", "b"]));
        Assert.NotEqual(baseline, Key(version: "12.4"));
        Assert.NotEqual(baseline, Key(options: ["-lineinfo"]));
        // Field boundaries matter: ("ab", "c") is not ("a", "bc").
        Assert.NotEqual(Key(names: ["ab", "c"]), Key(names: ["a", "bc"]));
    }

    [Fact]
    public void The_format_round_trips_and_rejects_a_foreign_key()
    {
        var program = new CompiledProgram([1, 2, 3, 4], true, "sm_90", new Dictionary<string, string> { ["kiln::x<1>"] = "_Z1x" }, "log");
        var key = ModuleCache.ComputeKey("s", [], "11.8", "sm_90", []);
        var bytes = ModuleCache.Serialize(key, program);

        var back = ModuleCache.Deserialize(bytes, key);
        Assert.NotNull(back);
        Assert.True(back.Image.SequenceEqual(program.Image));
        Assert.Equal("_Z1x", back.GetLoweredName("kiln::x<1>"));
        Assert.Equal("sm_90", back.Arch);
        Assert.Equal("log", back.Log);
        Assert.True(back.IsCubin);

        Assert.Null(ModuleCache.Deserialize(bytes, ModuleCache.ComputeKey("t", [], "11.8", "sm_90", [])));
        for (int cut = 0; cut < bytes.Length; cut += 7)
        {
            Assert.Null(ModuleCache.Deserialize(bytes.AsSpan(0, cut), key));
        }
    }

    [Fact]
    public void The_default_directory_honours_kiln_cache_dir_then_xdg()
    {
        var dir = ModuleCache.DefaultDirectory();
        var kiln = Environment.GetEnvironmentVariable("KILN_CACHE_DIR");
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        if (!string.IsNullOrWhiteSpace(kiln))
        {
            Assert.Equal(kiln, dir);
        }
        else if (!string.IsNullOrWhiteSpace(xdg))
        {
            Assert.Equal(Path.Combine(xdg, "kiln", "cuda"), dir);
        }
        else
        {
            Assert.EndsWith(Path.Combine(".cache", "kiln", "cuda"), dir, StringComparison.Ordinal);
        }
    }
}

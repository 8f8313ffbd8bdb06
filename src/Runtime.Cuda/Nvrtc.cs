using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using Kiln.Runtime.Cuda.Interop;

namespace Kiln.Runtime.Cuda;

/// <summary>
/// NVRTC, the runtime CUDA C++ compiler. Probed in this order: <c>$KILN_NVRTC_PATH</c> (a library file, or a directory
/// holding one), then <c>libnvrtc.so.13</c>, <c>.12</c>, <c>.11.2</c>, <c>libnvrtc.so</c> through the dynamic loader,
/// then the same names under <c>/usr/local/cuda/lib64/</c>. Thread-safe.
/// </summary>
public static partial class Nvrtc
{
    private static long s_compilations;

    // Compilations are serialised: NVRTC 11.x does not promise that concurrent nvrtcCompileProgram calls are safe,
    // and each program is compiled once per process anyway (ModuleCache).
    private static readonly Lock s_compileLock = new();

    /// <summary>Whether NVRTC can be loaded; <paramref name="reason"/> lists every path tried when it cannot.</summary>
    public static bool IsAvailable(out string reason)
    {
        if (NvrtcApi.TryGet(out _, out reason))
        {
            reason = "";
            return true;
        }
        return false;
    }

    /// <summary>The loaded NVRTC's version (major.minor), e.g. 11.8. Throws <see cref="NvrtcException"/> when NVRTC is missing.</summary>
    public static Version Version
    {
        get
        {
            var api = NvrtcApi.Instance;
            return new Version(api.Major, api.Minor);
        }
    }

    /// <summary>The file or name the library was loaded from.</summary>
    public static string LibraryPath => NvrtcApi.Instance.LibraryPath;

    /// <summary>The real architectures (e.g. 80, 90) it accepts; empty before NVRTC 11.2, which cannot say.</summary>
    public static IReadOnlyList<int> SupportedArchs => NvrtcApi.Instance.SupportedArchs();

    /// <summary>Whether this NVRTC can emit CUBIN (11.1+); otherwise every compilation yields PTX.</summary>
    public static bool CanEmitCubin => NvrtcApi.Instance.HasCubin;

    /// <summary>How many times this process has run nvrtcCompileProgram (successfully or not).</summary>
    public static long CompilationCount => Interlocked.Read(ref s_compilations);

    /// <summary>The options every compilation gets, before <c>extraOptions</c>: no fast math, so results stay close to the CPU's.</summary>
    public static IReadOnlyList<string> DefaultOptions { get; } = ["-std=c++17"];

    [GeneratedRegex(@"^(sm|compute)_[0-9]{2,3}[af]?$")]
    private static partial Regex ArchPattern();

    /// <summary>
    /// Compiles <paramref name="source"/> for <paramref name="arch"/> (<c>sm_80</c>, <c>sm_90</c>: CUBIN; <c>compute_80</c>: PTX)
    /// with <c>-std=c++17 --gpu-architecture=ARCH</c> plus <paramref name="extraOptions"/>, and lowers every name expression
    /// (e.g. <c>kiln::dense_forward&lt;4,10,1&gt;</c>). An <c>sm_XX</c> request falls back to <c>compute_XX</c> PTX when this
    /// NVRTC cannot emit CUBIN. Compile errors throw <see cref="NvrtcException"/> carrying the whole log.
    /// </summary>
    public static unsafe CompiledProgram Compile(string source, string programName, IReadOnlyList<string> nameExpressions, string arch, IReadOnlyList<string>? extraOptions = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(programName);
        ArgumentNullException.ThrowIfNull(nameExpressions);
        ArgumentNullException.ThrowIfNull(arch);
        if (!ArchPattern().IsMatch(arch))
        {
            throw new ArgumentException($"Expected an architecture like 'sm_90' or 'compute_80', got '{arch}'.", nameof(arch));
        }
        var api = NvrtcApi.Instance;
        bool cubin = arch.StartsWith("sm_", StringComparison.Ordinal) && api.HasCubin;
        if (arch.StartsWith("sm_", StringComparison.Ordinal) && !cubin)
        {
            arch = "compute_" + arch["sm_".Length..];
        }

        var options = new List<string>(DefaultOptions) { "--gpu-architecture=" + arch };
        if (extraOptions is not null)
        {
            options.AddRange(extraOptions);
        }

        IntPtr program;
        fixed (byte* src = Utf8Z(source))
        fixed (byte* name = Utf8Z(programName))
        {
            api.Check(api.nvrtcCreateProgram(&program, src, name, 0, null, null), "nvrtcCreateProgram", $"program '{programName}'");
        }
        try
        {
            foreach (var expression in nameExpressions)
            {
                fixed (byte* e = Utf8Z(expression))
                {
                    api.Check(api.nvrtcAddNameExpression(program, e), "nvrtcAddNameExpression", $"'{expression}'");
                }
            }

            int result;
            lock (s_compileLock)
            {
                result = CompileWithOptions(api, program, options);
            }
            Interlocked.Increment(ref s_compilations);
            string log = GetLog(api, program);
            if (result != 0)
            {
                throw new NvrtcException("nvrtcCompileProgram", result, api.ErrorName(result), $"program '{programName}' for {arch}", log.Length > 0 ? log : "(empty)");
            }

            byte[] image;
            nuint size;
            if (cubin)
            {
                api.Check(api.nvrtcGetCUBINSize(program, &size), "nvrtcGetCUBINSize");
                image = new byte[(int)size];
                fixed (byte* p = image)
                {
                    api.Check(api.nvrtcGetCUBIN(program, p), "nvrtcGetCUBIN");
                }
            }
            else
            {
                api.Check(api.nvrtcGetPTXSize(program, &size), "nvrtcGetPTXSize");
                image = new byte[(int)size];
                fixed (byte* p = image)
                {
                    api.Check(api.nvrtcGetPTX(program, p), "nvrtcGetPTX");
                }
            }

            var lowered = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var expression in nameExpressions)
            {
                byte* l = null;
                fixed (byte* e = Utf8Z(expression))
                {
                    api.Check(api.nvrtcGetLoweredName(program, e, &l), "nvrtcGetLoweredName", $"'{expression}'");
                }
                lowered[expression] = Marshal.PtrToStringUTF8((IntPtr)l) ?? "";
            }
            return new CompiledProgram(image, cubin, arch, lowered, log);
        }
        finally
        {
            api.nvrtcDestroyProgram(&program);
        }
    }

    private static unsafe int CompileWithOptions(NvrtcApi api, IntPtr program, List<string> options)
    {
        var buffers = new byte[options.Count][];
        var handles = new GCHandle[options.Count];
        var pointers = new IntPtr[options.Count];
        try
        {
            for (int i = 0; i < options.Count; i++)
            {
                buffers[i] = Utf8Z(options[i]);
                handles[i] = GCHandle.Alloc(buffers[i], GCHandleType.Pinned);
                pointers[i] = handles[i].AddrOfPinnedObject();
            }
            fixed (IntPtr* p = pointers)
            {
                return api.nvrtcCompileProgram(program, options.Count, (byte**)p);
            }
        }
        finally
        {
            foreach (var h in handles)
            {
                if (h.IsAllocated)
                {
                    h.Free();
                }
            }
        }
    }

    private static unsafe string GetLog(NvrtcApi api, IntPtr program)
    {
        nuint size;
        api.Check(api.nvrtcGetProgramLogSize(program, &size), "nvrtcGetProgramLogSize");
        if (size <= 1)
        {
            return "";
        }
        var buffer = new byte[(int)size];
        fixed (byte* p = buffer)
        {
            api.Check(api.nvrtcGetProgramLog(program, p), "nvrtcGetProgramLog");
        }
        return Encoding.UTF8.GetString(buffer, 0, buffer.Length - 1);
    }

    private static byte[] Utf8Z(string s)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(s) + 1];
        Encoding.UTF8.GetBytes(s, bytes);
        return bytes;
    }
}

using System.Runtime.InteropServices;

namespace Kiln.Runtime.Cuda.Interop;

/// <summary>NVRTC bound by function pointer. Loaded once per process from the first library that the probe finds.</summary>
internal sealed unsafe class NvrtcApi
{
    public const string PathVariable = "KILN_NVRTC_PATH";

    private static readonly Lazy<(NvrtcApi? Api, string Error)> s_instance = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    public readonly string LibraryPath;
    public readonly int Major;
    public readonly int Minor;

    public readonly delegate* unmanaged<int, byte*> nvrtcGetErrorString;
    public readonly delegate* unmanaged<int*, int*, int> nvrtcVersion;
    public readonly delegate* unmanaged<int*, int> nvrtcGetNumSupportedArchs; // optional (11.2+)
    public readonly delegate* unmanaged<int*, int> nvrtcGetSupportedArchs; // optional (11.2+)
    public readonly delegate* unmanaged<IntPtr*, byte*, byte*, int, byte**, byte**, int> nvrtcCreateProgram;
    public readonly delegate* unmanaged<IntPtr, byte*, int> nvrtcAddNameExpression;
    public readonly delegate* unmanaged<IntPtr, int, byte**, int> nvrtcCompileProgram;
    public readonly delegate* unmanaged<IntPtr, nuint*, int> nvrtcGetProgramLogSize;
    public readonly delegate* unmanaged<IntPtr, byte*, int> nvrtcGetProgramLog;
    public readonly delegate* unmanaged<IntPtr, nuint*, int> nvrtcGetPTXSize;
    public readonly delegate* unmanaged<IntPtr, byte*, int> nvrtcGetPTX;
    public readonly delegate* unmanaged<IntPtr, nuint*, int> nvrtcGetCUBINSize; // optional (11.1+)
    public readonly delegate* unmanaged<IntPtr, byte*, int> nvrtcGetCUBIN; // optional (11.1+)
    public readonly delegate* unmanaged<IntPtr, byte*, byte**, int> nvrtcGetLoweredName;
    public readonly delegate* unmanaged<IntPtr*, int> nvrtcDestroyProgram;

    private NvrtcApi(IntPtr lib, string path)
    {
        LibraryPath = path;
        const string L = "libnvrtc";
        nvrtcGetErrorString = (delegate* unmanaged<int, byte*>)NativeLibraryProbe.Export(lib, "nvrtcGetErrorString", L);
        nvrtcVersion = (delegate* unmanaged<int*, int*, int>)NativeLibraryProbe.Export(lib, "nvrtcVersion", L);
        nvrtcGetNumSupportedArchs = (delegate* unmanaged<int*, int>)NativeLibraryProbe.OptionalExport(lib, "nvrtcGetNumSupportedArchs");
        nvrtcGetSupportedArchs = (delegate* unmanaged<int*, int>)NativeLibraryProbe.OptionalExport(lib, "nvrtcGetSupportedArchs");
        nvrtcCreateProgram = (delegate* unmanaged<IntPtr*, byte*, byte*, int, byte**, byte**, int>)NativeLibraryProbe.Export(lib, "nvrtcCreateProgram", L);
        nvrtcAddNameExpression = (delegate* unmanaged<IntPtr, byte*, int>)NativeLibraryProbe.Export(lib, "nvrtcAddNameExpression", L);
        nvrtcCompileProgram = (delegate* unmanaged<IntPtr, int, byte**, int>)NativeLibraryProbe.Export(lib, "nvrtcCompileProgram", L);
        nvrtcGetProgramLogSize = (delegate* unmanaged<IntPtr, nuint*, int>)NativeLibraryProbe.Export(lib, "nvrtcGetProgramLogSize", L);
        nvrtcGetProgramLog = (delegate* unmanaged<IntPtr, byte*, int>)NativeLibraryProbe.Export(lib, "nvrtcGetProgramLog", L);
        nvrtcGetPTXSize = (delegate* unmanaged<IntPtr, nuint*, int>)NativeLibraryProbe.Export(lib, "nvrtcGetPTXSize", L);
        nvrtcGetPTX = (delegate* unmanaged<IntPtr, byte*, int>)NativeLibraryProbe.Export(lib, "nvrtcGetPTX", L);
        nvrtcGetCUBINSize = (delegate* unmanaged<IntPtr, nuint*, int>)NativeLibraryProbe.OptionalExport(lib, "nvrtcGetCUBINSize");
        nvrtcGetCUBIN = (delegate* unmanaged<IntPtr, byte*, int>)NativeLibraryProbe.OptionalExport(lib, "nvrtcGetCUBIN");
        nvrtcGetLoweredName = (delegate* unmanaged<IntPtr, byte*, byte**, int>)NativeLibraryProbe.Export(lib, "nvrtcGetLoweredName", L);
        nvrtcDestroyProgram = (delegate* unmanaged<IntPtr*, int>)NativeLibraryProbe.Export(lib, "nvrtcDestroyProgram", L);

        int major, minor;
        Check(nvrtcVersion(&major, &minor), "nvrtcVersion");
        Major = major;
        Minor = minor;
    }

    public bool HasCubin => nvrtcGetCUBIN != null && nvrtcGetCUBINSize != null;

    /// <summary>The architectures this NVRTC accepts (e.g. 52, …, 90), or an empty list when it cannot say (before 11.2).</summary>
    public IReadOnlyList<int> SupportedArchs()
    {
        if (nvrtcGetNumSupportedArchs == null || nvrtcGetSupportedArchs == null)
        {
            return [];
        }
        int count;
        Check(nvrtcGetNumSupportedArchs(&count), "nvrtcGetNumSupportedArchs");
        var archs = new int[count];
        fixed (int* p = archs)
        {
            Check(nvrtcGetSupportedArchs(p), "nvrtcGetSupportedArchs");
        }
        return archs;
    }

    /// <summary>Library names and paths tried, in order: <c>$KILN_NVRTC_PATH</c> (a file, or a directory to search) first.</summary>
    internal static IReadOnlyList<string> Candidates()
    {
        var list = new List<string>();
        string[] fileNames = OperatingSystem.IsWindows()
            ? ["nvrtc64_130_0.dll", "nvrtc64_120_0.dll", "nvrtc64_112_0.dll"]
            : ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so"];
        var env = Environment.GetEnvironmentVariable(PathVariable);
        if (!string.IsNullOrWhiteSpace(env))
        {
            if (Directory.Exists(env))
            {
                foreach (var name in fileNames)
                {
                    list.Add(Path.Combine(Path.GetFullPath(env), name));
                }
            }
            else
            {
                list.Add(Path.GetFullPath(env));
            }
        }
        list.AddRange(fileNames);
        if (!OperatingSystem.IsWindows())
        {
            foreach (var name in fileNames)
            {
                list.Add("/usr/local/cuda/lib64/" + name);
            }
        }
        return list;
    }

    private static (NvrtcApi?, string) Load()
    {
        if (!NativeLibraryProbe.TryLoad(Candidates(), out var lib, out var path, out var tried))
        {
            return (null, $"NVRTC (libnvrtc) could not be loaded (tried: {string.Join("; ", tried)}); install it (Debian: .ci/install-nvrtc.sh, or the CUDA toolkit) or set {PathVariable} to the library file or its directory");
        }
        try
        {
            return (new NvrtcApi(lib, path), "");
        }
        catch (Exception e) when (e is EntryPointNotFoundException or NvrtcException)
        {
            return (null, $"NVRTC at {path} is unusable: {e.Message}");
        }
    }

    public static bool TryGet(out NvrtcApi? api, out string reason)
    {
        (api, reason) = s_instance.Value;
        return api is not null;
    }

    public static NvrtcApi Instance
    {
        get
        {
            var (api, reason) = s_instance.Value;
            return api ?? throw new NvrtcException("dlopen", -1, "LIBRARY_NOT_FOUND", reason);
        }
    }

    public void Check(int result, string call, string detail = "")
    {
        if (result != 0)
        {
            throw new NvrtcException(call, result, ErrorName(result), detail);
        }
    }

    public string ErrorName(int result)
    {
        var p = nvrtcGetErrorString(result);
        return p == null ? "NVRTC_ERROR_" + result.ToString(System.Globalization.CultureInfo.InvariantCulture) : Marshal.PtrToStringUTF8((IntPtr)p) ?? "";
    }
}

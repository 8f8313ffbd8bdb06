using System.Runtime.InteropServices;
using System.Text;

namespace Kiln.Runtime.Cuda.Interop;

/// <summary>
/// The CUDA driver API (libcuda.so.1), bound by function pointer to the exact versioned symbols that
/// cuda.h maps its names to (cuMemAlloc → cuMemAlloc_v2, …). Loaded once per process.
/// </summary>
internal sealed unsafe class DriverApi
{
    public const int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
    public const int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
    public const int CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
    public const uint CU_STREAM_NON_BLOCKING = 1;
    public const uint CU_EVENT_DEFAULT = 0;
    public const uint CU_EVENT_DISABLE_TIMING = 2;
    public const int CU_STREAM_CAPTURE_MODE_THREAD_LOCAL = 1;

    private static readonly Lazy<(DriverApi? Api, string Error)> s_instance = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly Lazy<int> s_init = new(() => Instance.cuInit(0), LazyThreadSafetyMode.ExecutionAndPublication);

    public readonly string LibraryPath;

    public readonly delegate* unmanaged<uint, int> cuInit;
    public readonly delegate* unmanaged<int*, int> cuDriverGetVersion;
    public readonly delegate* unmanaged<int*, int> cuDeviceGetCount;
    public readonly delegate* unmanaged<int*, int, int> cuDeviceGet;
    public readonly delegate* unmanaged<int*, int, int, int> cuDeviceGetAttribute;
    public readonly delegate* unmanaged<byte*, int, int, int> cuDeviceGetName;
    public readonly delegate* unmanaged<IntPtr*, int, int> cuDevicePrimaryCtxRetain;
    public readonly delegate* unmanaged<int, int> cuDevicePrimaryCtxRelease_v2;
    public readonly delegate* unmanaged<IntPtr, int> cuCtxSetCurrent;
    public readonly delegate* unmanaged<ulong*, nuint, int> cuMemAlloc_v2;
    public readonly delegate* unmanaged<ulong, int> cuMemFree_v2;
    public readonly delegate* unmanaged<ulong, void*, nuint, int> cuMemcpyHtoD_v2;
    public readonly delegate* unmanaged<void*, ulong, nuint, int> cuMemcpyDtoH_v2;
    public readonly delegate* unmanaged<ulong, void*, nuint, IntPtr, int> cuMemcpyHtoDAsync_v2;
    public readonly delegate* unmanaged<void*, ulong, nuint, IntPtr, int> cuMemcpyDtoHAsync_v2;
    public readonly delegate* unmanaged<ulong, uint, nuint, int> cuMemsetD32_v2;
    public readonly delegate* unmanaged<void**, nuint, uint, int> cuMemHostAlloc;
    public readonly delegate* unmanaged<void*, int> cuMemFreeHost;
    public readonly delegate* unmanaged<IntPtr*, void*, int> cuModuleLoadData;
    public readonly delegate* unmanaged<IntPtr*, IntPtr, byte*, int> cuModuleGetFunction;
    public readonly delegate* unmanaged<IntPtr, int> cuModuleUnload;
    public readonly delegate* unmanaged<IntPtr, uint, uint, uint, uint, uint, uint, uint, IntPtr, void**, void**, int> cuLaunchKernel;
    public readonly delegate* unmanaged<IntPtr*, uint, int> cuStreamCreate;
    public readonly delegate* unmanaged<IntPtr, int> cuStreamSynchronize;
    public readonly delegate* unmanaged<IntPtr, int> cuStreamDestroy_v2;
    public readonly delegate* unmanaged<int, byte**, int> cuGetErrorName;
    public readonly delegate* unmanaged<IntPtr*, uint, int> cuEventCreate;
    public readonly delegate* unmanaged<IntPtr, IntPtr, int> cuEventRecord;
    public readonly delegate* unmanaged<IntPtr, int> cuEventSynchronize;
    public readonly delegate* unmanaged<float*, IntPtr, IntPtr, int> cuEventElapsedTime;
    public readonly delegate* unmanaged<IntPtr, int> cuEventDestroy_v2;
    public readonly delegate* unmanaged<int, byte**, int> cuGetErrorString;

    // CUDA graphs: optional so an old driver still runs everything else; CudaGraph checks them.
    public readonly delegate* unmanaged<IntPtr, int, int> cuStreamBeginCapture_v2;
    public readonly delegate* unmanaged<IntPtr, IntPtr*, int> cuStreamEndCapture;
    public readonly delegate* unmanaged<IntPtr*, IntPtr, ulong, int> cuGraphInstantiateWithFlags;
    public readonly delegate* unmanaged<IntPtr, IntPtr, int> cuGraphLaunch;
    public readonly delegate* unmanaged<IntPtr, int> cuGraphExecDestroy;
    public readonly delegate* unmanaged<IntPtr, int> cuGraphDestroy;

    private DriverApi(IntPtr lib, string path)
    {
        LibraryPath = path;
        const string L = "libcuda.so.1";
        cuInit = (delegate* unmanaged<uint, int>)NativeLibraryProbe.Export(lib, "cuInit", L);
        cuDriverGetVersion = (delegate* unmanaged<int*, int>)NativeLibraryProbe.Export(lib, "cuDriverGetVersion", L);
        cuDeviceGetCount = (delegate* unmanaged<int*, int>)NativeLibraryProbe.Export(lib, "cuDeviceGetCount", L);
        cuDeviceGet = (delegate* unmanaged<int*, int, int>)NativeLibraryProbe.Export(lib, "cuDeviceGet", L);
        cuDeviceGetAttribute = (delegate* unmanaged<int*, int, int, int>)NativeLibraryProbe.Export(lib, "cuDeviceGetAttribute", L);
        cuDeviceGetName = (delegate* unmanaged<byte*, int, int, int>)NativeLibraryProbe.Export(lib, "cuDeviceGetName", L);
        cuDevicePrimaryCtxRetain = (delegate* unmanaged<IntPtr*, int, int>)NativeLibraryProbe.Export(lib, "cuDevicePrimaryCtxRetain", L);
        cuDevicePrimaryCtxRelease_v2 = (delegate* unmanaged<int, int>)NativeLibraryProbe.Export(lib, "cuDevicePrimaryCtxRelease_v2", L);
        cuCtxSetCurrent = (delegate* unmanaged<IntPtr, int>)NativeLibraryProbe.Export(lib, "cuCtxSetCurrent", L);
        cuMemAlloc_v2 = (delegate* unmanaged<ulong*, nuint, int>)NativeLibraryProbe.Export(lib, "cuMemAlloc_v2", L);
        cuMemFree_v2 = (delegate* unmanaged<ulong, int>)NativeLibraryProbe.Export(lib, "cuMemFree_v2", L);
        cuMemcpyHtoD_v2 = (delegate* unmanaged<ulong, void*, nuint, int>)NativeLibraryProbe.Export(lib, "cuMemcpyHtoD_v2", L);
        cuMemcpyDtoH_v2 = (delegate* unmanaged<void*, ulong, nuint, int>)NativeLibraryProbe.Export(lib, "cuMemcpyDtoH_v2", L);
        cuMemcpyHtoDAsync_v2 = (delegate* unmanaged<ulong, void*, nuint, IntPtr, int>)NativeLibraryProbe.Export(lib, "cuMemcpyHtoDAsync_v2", L);
        cuMemcpyDtoHAsync_v2 = (delegate* unmanaged<void*, ulong, nuint, IntPtr, int>)NativeLibraryProbe.Export(lib, "cuMemcpyDtoHAsync_v2", L);
        cuMemsetD32_v2 = (delegate* unmanaged<ulong, uint, nuint, int>)NativeLibraryProbe.Export(lib, "cuMemsetD32_v2", L);
        cuMemHostAlloc = (delegate* unmanaged<void**, nuint, uint, int>)NativeLibraryProbe.Export(lib, "cuMemHostAlloc", L);
        cuMemFreeHost = (delegate* unmanaged<void*, int>)NativeLibraryProbe.Export(lib, "cuMemFreeHost", L);
        cuModuleLoadData = (delegate* unmanaged<IntPtr*, void*, int>)NativeLibraryProbe.Export(lib, "cuModuleLoadData", L);
        cuModuleGetFunction = (delegate* unmanaged<IntPtr*, IntPtr, byte*, int>)NativeLibraryProbe.Export(lib, "cuModuleGetFunction", L);
        cuModuleUnload = (delegate* unmanaged<IntPtr, int>)NativeLibraryProbe.Export(lib, "cuModuleUnload", L);
        cuLaunchKernel = (delegate* unmanaged<IntPtr, uint, uint, uint, uint, uint, uint, uint, IntPtr, void**, void**, int>)NativeLibraryProbe.Export(lib, "cuLaunchKernel", L);
        cuStreamCreate = (delegate* unmanaged<IntPtr*, uint, int>)NativeLibraryProbe.Export(lib, "cuStreamCreate", L);
        cuStreamSynchronize = (delegate* unmanaged<IntPtr, int>)NativeLibraryProbe.Export(lib, "cuStreamSynchronize", L);
        cuStreamDestroy_v2 = (delegate* unmanaged<IntPtr, int>)NativeLibraryProbe.Export(lib, "cuStreamDestroy_v2", L);
        cuGetErrorName = (delegate* unmanaged<int, byte**, int>)NativeLibraryProbe.Export(lib, "cuGetErrorName", L);
        cuEventCreate = (delegate* unmanaged<IntPtr*, uint, int>)NativeLibraryProbe.Export(lib, "cuEventCreate", L);
        cuEventRecord = (delegate* unmanaged<IntPtr, IntPtr, int>)NativeLibraryProbe.Export(lib, "cuEventRecord", L);
        cuEventSynchronize = (delegate* unmanaged<IntPtr, int>)NativeLibraryProbe.Export(lib, "cuEventSynchronize", L);
        cuEventElapsedTime = (delegate* unmanaged<float*, IntPtr, IntPtr, int>)NativeLibraryProbe.Export(lib, "cuEventElapsedTime", L);
        cuEventDestroy_v2 = (delegate* unmanaged<IntPtr, int>)NativeLibraryProbe.Export(lib, "cuEventDestroy_v2", L);
        cuGetErrorString = (delegate* unmanaged<int, byte**, int>)NativeLibraryProbe.Export(lib, "cuGetErrorString", L);

        cuStreamBeginCapture_v2 = (delegate* unmanaged<IntPtr, int, int>)NativeLibraryProbe.OptionalExport(lib, "cuStreamBeginCapture_v2");
        cuStreamEndCapture = (delegate* unmanaged<IntPtr, IntPtr*, int>)NativeLibraryProbe.OptionalExport(lib, "cuStreamEndCapture");
        cuGraphInstantiateWithFlags = (delegate* unmanaged<IntPtr*, IntPtr, ulong, int>)NativeLibraryProbe.OptionalExport(lib, "cuGraphInstantiateWithFlags");
        cuGraphLaunch = (delegate* unmanaged<IntPtr, IntPtr, int>)NativeLibraryProbe.OptionalExport(lib, "cuGraphLaunch");
        cuGraphExecDestroy = (delegate* unmanaged<IntPtr, int>)NativeLibraryProbe.OptionalExport(lib, "cuGraphExecDestroy");
        cuGraphDestroy = (delegate* unmanaged<IntPtr, int>)NativeLibraryProbe.OptionalExport(lib, "cuGraphDestroy");
    }

    public bool HasGraphs =>
        cuStreamBeginCapture_v2 != null && cuStreamEndCapture != null && cuGraphInstantiateWithFlags != null
        && cuGraphLaunch != null && cuGraphExecDestroy != null && cuGraphDestroy != null;

    /// <summary>Library names tried, in order.</summary>
    internal static IReadOnlyList<string> Candidates =>
        OperatingSystem.IsWindows() ? ["nvcuda.dll"] : ["libcuda.so.1", "/usr/lib/x86_64-linux-gnu/libcuda.so.1", "/usr/lib64/libcuda.so.1", "/usr/lib/wsl/lib/libcuda.so.1"];

    private static (DriverApi?, string) Load()
    {
        if (!NativeLibraryProbe.TryLoad(Candidates, out var lib, out var path, out var tried))
        {
            return (null, $"the CUDA driver library libcuda.so.1 could not be loaded (tried: {string.Join("; ", tried)}); install the NVIDIA driver or run on a machine with an NVIDIA GPU");
        }
        try
        {
            return (new DriverApi(lib, path), "");
        }
        catch (EntryPointNotFoundException e)
        {
            return (null, $"the CUDA driver library at {path} is unusable: {e.Message}");
        }
    }

    /// <summary>Whether libcuda loaded; <paramref name="reason"/> says why not.</summary>
    public static bool TryGet(out DriverApi? api, out string reason)
    {
        (api, reason) = s_instance.Value;
        return api is not null;
    }

    /// <summary>The loaded driver, or a <see cref="CudaException"/> naming every path tried.</summary>
    public static DriverApi Instance
    {
        get
        {
            var (api, reason) = s_instance.Value;
            return api ?? throw new CudaException("dlopen", -1, "LIBRARY_NOT_FOUND", reason);
        }
    }

    /// <summary>Loads the driver and calls cuInit(0) once per process; throws on either failure.</summary>
    public static DriverApi Initialized
    {
        get
        {
            var api = Instance;
            Check(s_init.Value, "cuInit");
            return api;
        }
    }

    public static void Check(int result, string call)
    {
        if (result != 0)
        {
            throw Error(result, call);
        }
    }

    public static CudaException Error(int result, string call)
    {
        string name = "CUDA_ERROR_" + result.ToString(System.Globalization.CultureInfo.InvariantCulture);
        string description = "unknown error";
        if (TryGet(out var api, out _))
        {
            byte* p = null;
            if (api!.cuGetErrorName(result, &p) == 0 && p != null)
            {
                name = Marshal.PtrToStringUTF8((IntPtr)p) ?? name;
            }
            p = null;
            if (api.cuGetErrorString(result, &p) == 0 && p != null)
            {
                description = Marshal.PtrToStringUTF8((IntPtr)p) ?? description;
            }
        }
        return new CudaException(call, result, name, description);
    }

    public static string ReadName(byte* buffer, int capacity)
    {
        int n = 0;
        while (n < capacity && buffer[n] != 0)
        {
            n++;
        }
        return Encoding.UTF8.GetString(buffer, n);
    }
}

using Kiln.Runtime.Cuda.Interop;

namespace Kiln.Runtime.Cuda;

/// <summary>A CUDA device as the driver API (libcuda.so.1) sees it.</summary>
public sealed class CudaDevice
{
    private CudaDevice(int ordinal, int handle, string name, int major, int minor)
    {
        Ordinal = ordinal;
        Handle = handle;
        Name = name;
        ComputeCapabilityMajor = major;
        ComputeCapabilityMinor = minor;
    }

    public int Ordinal { get; }

    internal int Handle { get; }

    /// <summary>The card's name, e.g. "NVIDIA H100 80GB HBM3".</summary>
    public string Name { get; }

    public int ComputeCapabilityMajor { get; }

    public int ComputeCapabilityMinor { get; }

    /// <summary>major·10 + minor, e.g. 90 for an H100.</summary>
    public int ComputeCapability => ComputeCapabilityMajor * 10 + ComputeCapabilityMinor;

    /// <summary>
    /// Whether a CUDA device can be used: libcuda.so.1 loads, cuInit succeeds, and at least one device exists.
    /// <paramref name="reason"/> says which step failed (naming every library path tried) when it cannot.
    /// </summary>
    public static bool IsAvailable(out string reason)
    {
        if (!DriverApi.TryGet(out _, out reason))
        {
            return false;
        }
        try
        {
            if (Count == 0)
            {
                reason = "the CUDA driver loaded but reports no device";
                return false;
            }
        }
        catch (CudaException e)
        {
            reason = e.Message;
            return false;
        }
        reason = "";
        return true;
    }

    /// <summary>How many devices the driver reports. Throws <see cref="CudaException"/> when the driver is missing or cuInit fails.</summary>
    public static unsafe int Count
    {
        get
        {
            var api = DriverApi.Initialized;
            int count;
            DriverApi.Check(api.cuDeviceGetCount(&count), "cuDeviceGetCount");
            return count;
        }
    }

    /// <summary>The driver's CUDA version, e.g. 12040 for 12.4.</summary>
    public static unsafe int DriverVersion
    {
        get
        {
            var api = DriverApi.Instance;
            int v;
            DriverApi.Check(api.cuDriverGetVersion(&v), "cuDriverGetVersion");
            return v;
        }
    }

    /// <summary>Device <paramref name="ordinal"/>; throws <see cref="CudaException"/> when there is no such device.</summary>
    public static unsafe CudaDevice Get(int ordinal)
    {
        var api = DriverApi.Initialized;
        int count = Count;
        if (ordinal < 0 || ordinal >= count)
        {
            throw new CudaException($"CUDA device {ordinal} does not exist: the driver reports {count} device(s).");
        }
        int handle, major, minor;
        DriverApi.Check(api.cuDeviceGet(&handle, ordinal), "cuDeviceGet");
        DriverApi.Check(api.cuDeviceGetAttribute(&major, DriverApi.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, handle), "cuDeviceGetAttribute");
        DriverApi.Check(api.cuDeviceGetAttribute(&minor, DriverApi.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, handle), "cuDeviceGetAttribute");
        const int Capacity = 256;
        byte* name = stackalloc byte[Capacity];
        DriverApi.Check(api.cuDeviceGetName(name, Capacity, handle), "cuDeviceGetName");
        return new CudaDevice(ordinal, handle, DriverApi.ReadName(name, Capacity), major, minor);
    }

    public override string ToString() => $"{Name} (device {Ordinal}, compute capability {ComputeCapabilityMajor}.{ComputeCapabilityMinor})";
}

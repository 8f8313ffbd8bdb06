using Kiln.Runtime.Cuda.Interop;

namespace Kiln.Runtime.Cuda;

/// <summary>
/// The primary context of one device, retained for this object's lifetime. Every operation in this library that
/// touches the device makes the context current on the calling thread first (<see cref="MakeCurrent"/>), so
/// objects can be used from any thread.
/// </summary>
public sealed class CudaContext : IDisposable
{
    private IntPtr _handle;

    /// <summary>Retains device <paramref name="ordinal"/>'s primary context. Throws <see cref="CudaException"/> when libcuda is missing (naming the paths tried), cuInit fails, or the device does not exist.</summary>
    public unsafe CudaContext(int ordinal = 0)
    {
        Device = CudaDevice.Get(ordinal);
        var api = DriverApi.Instance;
        IntPtr ctx;
        DriverApi.Check(api.cuDevicePrimaryCtxRetain(&ctx, Device.Handle), "cuDevicePrimaryCtxRetain");
        _handle = ctx;
        MakeCurrent();
    }

    public CudaDevice Device { get; }

    internal IntPtr Handle => _handle;

    /// <summary>Binds this context to the calling thread (cuCtxSetCurrent).</summary>
    public void MakeCurrent()
    {
        ObjectDisposedException.ThrowIf(_handle == IntPtr.Zero, this);
        unsafe
        {
            DriverApi.Check(DriverApi.Instance.cuCtxSetCurrent(_handle), "cuCtxSetCurrent");
        }
    }

    /// <summary>Allocates <paramref name="count"/> elements of device memory.</summary>
    public DeviceBuffer<T> Allocate<T>(long count) where T : unmanaged => new(this, count);

    /// <summary>Allocates <paramref name="count"/> elements of page-locked host memory.</summary>
    public PinnedBuffer<T> AllocatePinned<T>(long count) where T : unmanaged => new(this, count);

    public CudaStream CreateStream() => new(this);

    /// <summary>A new event; <paramref name="timing"/> events can be timed against each other, the others only waited for.</summary>
    public CudaEvent CreateEvent(bool timing = false) => new(this, timing);

    public CudaModule LoadModule(CompiledProgram program) => new(this, program);

    /// <summary>
    /// Waits for the legacy default stream (cuStreamSynchronize(0)): the synchronous copies, Clear, Fill32 and launches
    /// with a null stream. Blocking streams' work is ordered with it; a <see cref="CudaStream"/> is non-blocking, so
    /// wait for it with <see cref="CudaStream.Synchronize"/>.
    /// </summary>
    public void Synchronize()
    {
        MakeCurrent();
        unsafe
        {
            DriverApi.Check(DriverApi.Instance.cuStreamSynchronize(IntPtr.Zero), "cuStreamSynchronize");
        }
    }

    public void Dispose()
    {
        if (_handle == IntPtr.Zero)
        {
            return;
        }
        _handle = IntPtr.Zero;
        unsafe
        {
            DriverApi.Check(DriverApi.Instance.cuDevicePrimaryCtxRelease_v2(Device.Handle), "cuDevicePrimaryCtxRelease_v2");
        }
    }
}

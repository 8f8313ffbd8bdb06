using Kiln.Runtime.Cuda.Interop;

namespace Kiln.Runtime.Cuda;

/// <summary>A non-blocking CUDA stream.</summary>
public sealed class CudaStream : IDisposable
{
    private DriverHandle _handle;

    internal unsafe CudaStream(CudaContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        Context = context;
        context.MakeCurrent();
        IntPtr s;
        DriverApi.Check(DriverApi.Instance.cuStreamCreate(&s, DriverApi.CU_STREAM_NON_BLOCKING), "cuStreamCreate");
        _handle = new DriverHandle(s);
    }

    public CudaContext Context { get; }

    /// <summary>The CUstream handle.</summary>
    public IntPtr Handle => _handle.Get(this);

    /// <summary>Blocks until everything queued on this stream has finished; surfaces asynchronous kernel errors.</summary>
    public unsafe void Synchronize()
    {
        Context.MakeCurrent();
        DriverApi.Check(DriverApi.Instance.cuStreamSynchronize(Handle), "cuStreamSynchronize");
    }

    public unsafe void Dispose() => _handle.Release(Context, DriverApi.Instance.cuStreamDestroy_v2, "cuStreamDestroy_v2");

    internal static IntPtr HandleOf(CudaStream? stream) => stream?.Handle ?? IntPtr.Zero;
}

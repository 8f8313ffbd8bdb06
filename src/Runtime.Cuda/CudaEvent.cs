using Kiln.Runtime.Cuda.Interop;

namespace Kiln.Runtime.Cuda;

/// <summary>A CUDA event: a marker queued on a stream, to wait for or to time the work between two of them.</summary>
public sealed class CudaEvent : IDisposable
{
    private DriverHandle _handle;

    /// <param name="context">The context the event belongs to.</param>
    /// <param name="timing">Whether <see cref="ElapsedMilliseconds"/> may be used; events without timing are cheaper to record and wait for.</param>
    internal unsafe CudaEvent(CudaContext context, bool timing)
    {
        Context = context;
        context.MakeCurrent();
        IntPtr e;
        DriverApi.Check(DriverApi.Instance.cuEventCreate(&e, timing ? DriverApi.CU_EVENT_DEFAULT : DriverApi.CU_EVENT_DISABLE_TIMING), "cuEventCreate");
        _handle = new DriverHandle(e);
    }

    public CudaContext Context { get; }

    private IntPtr Handle => _handle.Get(this);

    /// <summary>Queues the event on <paramref name="stream"/>: it completes when the work queued before it has.</summary>
    public unsafe void Record(CudaStream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Context.MakeCurrent();
        DriverApi.Check(DriverApi.Instance.cuEventRecord(Handle, stream.Handle), "cuEventRecord");
    }

    /// <summary>Blocks until the event has completed (at once if it was never recorded).</summary>
    public unsafe void Synchronize()
    {
        Context.MakeCurrent();
        DriverApi.Check(DriverApi.Instance.cuEventSynchronize(Handle), "cuEventSynchronize");
    }

    /// <summary>Milliseconds on the device between <paramref name="start"/> and <paramref name="end"/>, both completed timing events.</summary>
    public static unsafe float ElapsedMilliseconds(CudaEvent start, CudaEvent end)
    {
        ArgumentNullException.ThrowIfNull(start);
        ArgumentNullException.ThrowIfNull(end);
        start.Context.MakeCurrent();
        float ms;
        DriverApi.Check(DriverApi.Instance.cuEventElapsedTime(&ms, start.Handle, end.Handle), "cuEventElapsedTime");
        return ms;
    }

    public unsafe void Dispose() => _handle.Release(Context, DriverApi.Instance.cuEventDestroy_v2, "cuEventDestroy_v2");
}

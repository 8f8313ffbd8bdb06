using Kiln.Runtime.Cuda.Interop;

namespace Kiln.Runtime.Cuda;

/// <summary>
/// An instantiated CUDA graph captured from a stream: record a training step once, replay it with one
/// <see cref="Launch"/>. Capture is thread-local (CU_STREAM_CAPTURE_MODE_THREAD_LOCAL), so other threads'
/// CUDA work is unaffected; memory must not be allocated or freed while capturing.
/// </summary>
public sealed class CudaGraph : IDisposable
{
    private IntPtr _graph;
    private IntPtr _exec;

    private CudaGraph(CudaContext context, IntPtr graph, IntPtr exec)
    {
        Context = context;
        _graph = graph;
        _exec = exec;
    }

    public CudaContext Context { get; }

    /// <summary>Whether the driver has the graph API (cuGraphInstantiateWithFlags needs CUDA 11.4+).</summary>
    public static bool IsSupported => DriverApi.TryGet(out var api, out _) && api!.HasGraphs;

    /// <summary>Records what <paramref name="record"/> queues on <paramref name="stream"/> and instantiates it.</summary>
    public static unsafe CudaGraph Capture(CudaStream stream, Action record)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(record);
        var api = DriverApi.Instance;
        if (!api.HasGraphs)
        {
            throw new CudaException($"The CUDA driver at {api.LibraryPath} lacks the graph API (cuStreamBeginCapture_v2, cuGraphInstantiateWithFlags…); CUDA 11.4 or newer is needed.");
        }
        stream.Context.MakeCurrent();
        DriverApi.Check(api.cuStreamBeginCapture_v2(stream.Handle, DriverApi.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL), "cuStreamBeginCapture_v2");
        IntPtr graph = IntPtr.Zero;
        try
        {
            record();
        }
        catch
        {
            stream.Context.MakeCurrent();
            if (api.cuStreamEndCapture(stream.Handle, &graph) == 0 && graph != IntPtr.Zero)
            {
                api.cuGraphDestroy(graph);
            }
            throw;
        }
        stream.Context.MakeCurrent();
        DriverApi.Check(api.cuStreamEndCapture(stream.Handle, &graph), "cuStreamEndCapture");
        IntPtr exec;
        int rc = api.cuGraphInstantiateWithFlags(&exec, graph, 0);
        if (rc != 0)
        {
            api.cuGraphDestroy(graph);
            throw DriverApi.Error(rc, "cuGraphInstantiateWithFlags");
        }
        return new CudaGraph(stream.Context, graph, exec);
    }

    /// <summary>Queues one replay of the graph on <paramref name="stream"/>.</summary>
    public unsafe void Launch(CudaStream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ObjectDisposedException.ThrowIf(_exec == IntPtr.Zero, this);
        Context.MakeCurrent();
        DriverApi.Check(DriverApi.Instance.cuGraphLaunch(_exec, stream.Handle), "cuGraphLaunch");
    }

    public unsafe void Dispose()
    {
        if (_exec == IntPtr.Zero)
        {
            return;
        }
        Context.MakeCurrent();
        var api = DriverApi.Instance;
        var exec = _exec;
        var graph = _graph;
        _exec = IntPtr.Zero;
        _graph = IntPtr.Zero;
        DriverApi.Check(api.cuGraphExecDestroy(exec), "cuGraphExecDestroy");
        DriverApi.Check(api.cuGraphDestroy(graph), "cuGraphDestroy");
    }
}

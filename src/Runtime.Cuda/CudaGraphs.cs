namespace Kiln.Runtime.Cuda;

/// <summary>
/// The training step's kernels recorded once per batch size as a CUDA graph and replayed with one launch, which
/// removes the per-kernel launch cost that dominates small networks. Off with KILN_CUDA_GRAPHS=0; if the driver
/// refuses a capture, the engine says so once and launches kernels one by one from then on.
/// </summary>
internal sealed class CudaGraphs : IDisposable
{
    // A few batch sizes at a time (Fit uses two: full batches and the last one); more distinct sizes start over.
    private const int MaxGraphs = 8;
    private readonly Dictionary<int, CudaGraph> _byBatch = [];
    private bool _failed;

    public static bool Enabled => CudaGraph.IsSupported && Environment.GetEnvironmentVariable("KILN_CUDA_GRAPHS") != "0";

    /// <summary>
    /// Replays the graph for <paramref name="batch"/>, recording what <paramref name="record"/>(batch) queues first if
    /// there is none; false when graphs cannot be used and the caller must queue the work itself.
    /// </summary>
    public bool TryLaunch(int batch, CudaStream stream, Action<int> record)
    {
        if (_failed)
        {
            return false;
        }
        if (!_byBatch.TryGetValue(batch, out var graph))
        {
            if (_byBatch.Count == MaxGraphs)
            {
                Clear();
            }
            try
            {
                graph = CudaGraph.Capture(stream, () => record(batch));
            }
            catch (CudaException e)
            {
                _failed = true;
                Console.Error.WriteLine($"Kiln: CUDA graph capture failed ({e.Message}); launching kernels one by one.");
                return false;
            }
            _byBatch[batch] = graph;
        }
        graph.Launch(stream);
        return true;
    }

    /// <summary>Drops every graph: the buffers they point at are about to be freed.</summary>
    public void Clear()
    {
        foreach (var graph in _byBatch.Values)
        {
            graph.Dispose();
        }
        _byBatch.Clear();
    }

    public void Dispose() => Clear();
}

namespace Kiln.Runtime.Cuda;

/// <summary>One set of pinned host buffers that batches pass through on their way to the device (see <see cref="CudaEngine"/>).</summary>
internal sealed class Staging(CudaContext context, int batch, CudaNetworkLayout layout) : IDisposable
{
    public PinnedBuffer<float> Features { get; } = context.AllocatePinned<float>((long)batch * layout.InputSize);
    public PinnedBuffer<int> Labels { get; } = context.AllocatePinned<int>(batch);
    public PinnedBuffer<float> Targets { get; } = context.AllocatePinned<float>((long)batch * layout.OutputSize);
    public PinnedBuffer<uint> Step { get; } = context.AllocatePinned<uint>(1);
    public PinnedBuffer<float> Scalars { get; } = context.AllocatePinned<float>(layout.ScalarCount);
    public CudaEvent Uploaded { get; } = context.CreateEvent();

    public void Dispose()
    {
        Uploaded.Synchronize();
        foreach (var d in new IDisposable[] { Uploaded, Features, Labels, Targets, Step, Scalars })
        {
            d.Dispose();
        }
    }
}

using Kiln.Runtime.Cuda.Interop;

namespace Kiln.Runtime.Cuda;

/// <summary><see cref="Count"/> elements of page-locked host memory (cuMemHostAlloc), for asynchronous copies.</summary>
public sealed unsafe class PinnedBuffer<T> : IDisposable where T : unmanaged
{
    private T* _address;

    internal PinnedBuffer(CudaContext context, long count)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, int.MaxValue);
        Context = context;
        Count = count;
        context.MakeCurrent();
        void* p;
        DriverApi.Check(DriverApi.Instance.cuMemHostAlloc(&p, (nuint)Math.Max(1, count * sizeof(T)), 0), "cuMemHostAlloc");
        _address = (T*)p;
    }

    public CudaContext Context { get; }

    public long Count { get; }

    internal T* Address
    {
        get
        {
            ObjectDisposedException.ThrowIf(_address == null, this);
            return _address;
        }
    }

    /// <summary>The host memory as a span; do not touch it while an asynchronous copy on it is in flight.</summary>
    public Span<T> AsSpan() => new(Address, (int)Count);

    internal void CheckRange(long offset, long count)
    {
        if (offset < 0 || count < 0 || offset + count > Count)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"Elements [{offset}, {offset + count}) are outside a pinned buffer of {Count}.");
        }
    }

    public void Dispose()
    {
        if (_address == null)
        {
            return;
        }
        var p = _address;
        _address = null;
        Context.MakeCurrent();
        DriverApi.Check(DriverApi.Instance.cuMemFreeHost(p), "cuMemFreeHost");
    }
}

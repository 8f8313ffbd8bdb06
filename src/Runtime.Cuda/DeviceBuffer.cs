using Kiln.Runtime.Cuda.Interop;

namespace Kiln.Runtime.Cuda;

/// <summary>
/// <see cref="Count"/> elements of <typeparamref name="T"/> in device memory (cuMemAlloc_v2; the allocation is
/// rounded up to whole 32-bit words so <see cref="Clear"/> and <see cref="Fill32"/> always work).
/// Offsets and counts are in elements.
/// </summary>
public sealed unsafe class DeviceBuffer<T> : IDisposable where T : unmanaged
{
    private ulong _pointer;

    internal DeviceBuffer(CudaContext context, long count)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Context = context;
        Count = count;
        long bytes = checked(count * sizeof(T));
        long rounded = Math.Max(4, (bytes + 3) & ~3L);
        context.MakeCurrent();
        ulong p;
        DriverApi.Check(DriverApi.Instance.cuMemAlloc_v2(&p, (nuint)rounded), "cuMemAlloc_v2");
        _pointer = p;
    }

    public CudaContext Context { get; }

    public long Count { get; }

    public long SizeInBytes => Count * sizeof(T);

    /// <summary>The CUdeviceptr, for kernel arguments.</summary>
    public ulong Pointer
    {
        get
        {
            ObjectDisposedException.ThrowIf(_pointer == 0, this);
            return _pointer;
        }
    }

    /// <summary>The device address of element <paramref name="offset"/>.</summary>
    public ulong At(long offset)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset, Count);
        return Pointer + (ulong)(offset * sizeof(T));
    }

    /// <summary>Copies <paramref name="source"/> to elements [offset, offset + source.Length) (synchronous).</summary>
    public void Upload(ReadOnlySpan<T> source, long offset = 0)
    {
        CheckRange(offset, source.Length);
        if (source.IsEmpty)
        {
            return;
        }
        Context.MakeCurrent();
        fixed (T* p = source)
        {
            DriverApi.Check(DriverApi.Instance.cuMemcpyHtoD_v2(At(offset), p, (nuint)(source.Length * sizeof(T))), "cuMemcpyHtoD_v2");
        }
    }

    /// <summary>Copies elements [offset, offset + destination.Length) into <paramref name="destination"/> (synchronous).</summary>
    public void Download(Span<T> destination, long offset = 0)
    {
        CheckRange(offset, destination.Length);
        if (destination.IsEmpty)
        {
            return;
        }
        Context.MakeCurrent();
        fixed (T* p = destination)
        {
            DriverApi.Check(DriverApi.Instance.cuMemcpyDtoH_v2(p, At(offset), (nuint)(destination.Length * sizeof(T))), "cuMemcpyDtoH_v2");
        }
    }

    /// <summary>Downloads the whole buffer into a new array.</summary>
    public T[] ToArray()
    {
        var result = new T[Count];
        Download(result);
        return result;
    }

    /// <summary>Queues a copy of <paramref name="count"/> elements from pinned host memory on <paramref name="stream"/>.</summary>
    public void UploadAsync(PinnedBuffer<T> source, CudaStream stream, long count = -1, long sourceOffset = 0, long offset = 0)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(stream);
        if (count < 0)
        {
            count = source.Count - sourceOffset;
        }
        CheckRange(offset, count);
        source.CheckRange(sourceOffset, count);
        if (count == 0)
        {
            return;
        }
        Context.MakeCurrent();
        DriverApi.Check(DriverApi.Instance.cuMemcpyHtoDAsync_v2(At(offset), source.Address + sourceOffset, (nuint)(count * sizeof(T)), stream.Handle), "cuMemcpyHtoDAsync_v2");
    }

    /// <summary>Queues a copy of <paramref name="count"/> elements into pinned host memory on <paramref name="stream"/>.</summary>
    public void DownloadAsync(PinnedBuffer<T> destination, CudaStream stream, long count = -1, long destinationOffset = 0, long offset = 0)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(stream);
        if (count < 0)
        {
            count = Count - offset;
        }
        CheckRange(offset, count);
        destination.CheckRange(destinationOffset, count);
        if (count == 0)
        {
            return;
        }
        Context.MakeCurrent();
        DriverApi.Check(DriverApi.Instance.cuMemcpyDtoHAsync_v2(destination.Address + destinationOffset, At(offset), (nuint)(count * sizeof(T)), stream.Handle), "cuMemcpyDtoHAsync_v2");
    }

    /// <summary>Sets every byte to zero (cuMemsetD32_v2).</summary>
    public void Clear() => Fill32(0);

    /// <summary>Sets every 32-bit word to <paramref name="bits"/>, e.g. 0x7FC00000 to poison a float buffer with NaN.</summary>
    public void Fill32(uint bits)
    {
        Context.MakeCurrent();
        long words = Math.Max(1, (SizeInBytes + 3) / 4);
        DriverApi.Check(DriverApi.Instance.cuMemsetD32_v2(Pointer, bits, (nuint)words), "cuMemsetD32_v2");
    }

    internal void CheckRange(long offset, long count)
    {
        if (offset < 0 || count < 0 || offset + count > Count)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"Elements [{offset}, {offset + count}) are outside a device buffer of {Count}.");
        }
    }

    public void Dispose()
    {
        if (_pointer == 0)
        {
            return;
        }
        var p = _pointer;
        _pointer = 0;
        Context.MakeCurrent();
        DriverApi.Check(DriverApi.Instance.cuMemFree_v2(p), "cuMemFree_v2");
    }
}

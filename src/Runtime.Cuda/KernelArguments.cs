using System.Runtime.InteropServices;

namespace Kiln.Runtime.Cuda;

/// <summary>
/// A kernel's parameter list for <see cref="CudaModule.Launch(CudaFunction, LaunchShape, CudaStream?, KernelArguments)"/>:
/// each value is copied into native memory, so the list can be built once and reused (update values with
/// <see cref="Set{T}"/>). Hot paths may instead pass a stackalloc'd <c>void**</c> to <see cref="CudaModule.Launch(CudaFunction, Dim3, Dim3, int, CudaStream?, void**)"/>.
/// </summary>
public sealed unsafe class KernelArguments : IDisposable
{
    private const int Slot = 8;
    private readonly int _capacity;
    private byte* _values;
    private void** _pointers;

    public KernelArguments(int capacity = 16)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        _capacity = capacity;
        _values = (byte*)NativeMemory.AllocZeroed((nuint)(capacity * Slot));
        _pointers = (void**)NativeMemory.AllocZeroed((nuint)(capacity * sizeof(void*)));
    }

    public int Count { get; private set; }

    /// <summary>Appends a value (a device pointer as <c>ulong</c>, an <c>int</c>, a <c>uint</c>, a <c>float</c>…; at most 8 bytes).</summary>
    public KernelArguments Add<T>(T value) where T : unmanaged
    {
        if (Count == _capacity)
        {
            throw new InvalidOperationException($"This argument list holds at most {_capacity} values.");
        }
        _pointers[Count] = _values + Count * Slot;
        Count++;
        Set(Count - 1, value);
        return this;
    }

    /// <summary>Appends a device buffer's address.</summary>
    public KernelArguments Add<T>(DeviceBuffer<T> buffer) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(buffer);
        return Add(buffer.Pointer);
    }

    /// <summary>Appends a null device pointer (for optional kernel outputs such as <c>probs</c>).</summary>
    public KernelArguments AddNull() => Add(0UL);

    /// <summary>Replaces value <paramref name="index"/>.</summary>
    public void Set<T>(int index, T value) where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(_values == null, this);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        if (sizeof(T) > Slot)
        {
            throw new ArgumentException($"A kernel argument is at most {Slot} bytes; {typeof(T).Name} has {sizeof(T)}.");
        }
        new Span<byte>(_values + index * Slot, Slot).Clear();
        *(T*)(_values + index * Slot) = value;
    }

    internal void** Pointers
    {
        get
        {
            ObjectDisposedException.ThrowIf(_values == null, this);
            return _pointers;
        }
    }

    public void Dispose()
    {
        if (_values == null)
        {
            return;
        }
        NativeMemory.Free(_values);
        NativeMemory.Free(_pointers);
        _values = null;
        _pointers = null;
    }
}

namespace Kiln.Runtime.Cuda.Interop;

/// <summary>
/// A driver-API handle (CUevent, CUstream, CUmodule) owned by the wrapper that created it: read through
/// <see cref="Get"/>, which throws once the handle is released, and destroyed at most once, in the owner's context.
/// </summary>
/// <remarks>A mutable struct: its owner keeps it in a field that is not readonly, so that <see cref="Release"/> clears it there.</remarks>
internal unsafe struct DriverHandle(IntPtr value)
{
    private IntPtr _value = value;

    public readonly IntPtr Get(object owner)
    {
        ObjectDisposedException.ThrowIf(_value == IntPtr.Zero, owner);
        return _value;
    }

    /// <summary>Destroys the handle in <paramref name="context"/> with <paramref name="destroy"/>, the driver call named <paramref name="call"/>; later calls do nothing.</summary>
    public void Release(CudaContext context, delegate* unmanaged<IntPtr, int> destroy, string call)
    {
        var handle = Take();
        if (handle != IntPtr.Zero)
        {
            context.MakeCurrent();
            DriverApi.Check(destroy(handle), call);
        }
    }

    /// <summary>Clears the handle and returns what it held: <see cref="IntPtr.Zero"/> once it is released.</summary>
    internal IntPtr Take()
    {
        var handle = _value;
        _value = IntPtr.Zero;
        return handle;
    }
}

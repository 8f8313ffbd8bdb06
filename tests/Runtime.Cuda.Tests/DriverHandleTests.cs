using Kiln.Runtime.Cuda.Interop;

namespace Kiln.Runtime.Cuda.Tests;

/// <summary>The handle that CudaEvent, CudaStream and CudaModule hold: released once, unusable after.</summary>
public sealed class DriverHandleTests
{
    [Fact]
    public void A_handle_is_given_up_once_and_then_refuses_reads_naming_its_owner()
    {
        var owner = new object();
        var handle = new DriverHandle(42);
        Assert.Equal(42, handle.Get(owner));

        Assert.Equal(42, handle.Take());
        Assert.Equal(IntPtr.Zero, handle.Take());
        var e = Assert.Throws<ObjectDisposedException>(() => handle.Get(owner));
        Assert.Equal(typeof(object).FullName, e.ObjectName);
    }

    [Fact]
    public void A_handle_never_set_reads_as_released()
    {
        var handle = default(DriverHandle);
        Assert.Throws<ObjectDisposedException>(() => handle.Get(this));
        Assert.Equal(IntPtr.Zero, handle.Take());
    }
}

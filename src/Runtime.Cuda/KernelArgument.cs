using System.Runtime.InteropServices;

namespace Kiln.Runtime.Cuda;

/// <summary>
/// One kernel argument in an 8-byte slot: a device address (<c>ulong</c>), an <c>int</c>, a <c>uint</c> or a
/// <c>float</c>, converted implicitly, so a launch reads as the kernel's parameter list
/// (<see cref="CudaModule.Launch(CudaFunction, LaunchShape, CudaStream?, ReadOnlySpan{KernelArgument})"/>). A 4-byte
/// value sits in the slot's low half, which is what the driver copies for a 4-byte parameter. Immutable: any thread
/// may use any value.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public readonly struct KernelArgument
{
    private KernelArgument(ulong bits) => Bits = bits;

    /// <summary>The slot as the driver reads it.</summary>
    internal ulong Bits { get; }

    public static implicit operator KernelArgument(ulong address) => new(address);

    public static implicit operator KernelArgument(int value) => new((uint)value);

    public static implicit operator KernelArgument(uint value) => new(value);

    public static implicit operator KernelArgument(float value) => new(BitConverter.SingleToUInt32Bits(value));

    // Without these, a long or a double would convert through float and arrive as a float's bits.
    [Obsolete("No library kernel takes a 64-bit integer: pass an int, or a device address as ulong.", error: true)]
    public static implicit operator KernelArgument(long value) => throw new NotSupportedException();

    [Obsolete("No library kernel takes a double: pass a float.", error: true)]
    public static implicit operator KernelArgument(double value) => throw new NotSupportedException();
}

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Kiln.Runtime.Cpu;

/// <summary>
/// One convolution's kernel as the Winograd forward transforms it, kept between calls for as long as the kernel's
/// values stay the same: predictions and evaluations then skip the transform (about 25 µs for the MNIST CNN's second
/// convolution, half the time of a one-image forward pass).
/// </summary>
/// <remarks>
/// A call reuses the transform only when the kernel it is given is bitwise equal to the one it was made from, so a
/// kernel changed in any way (an optimizer step, <c>SetParameters</c>, a load) is transformed again: a stale transform
/// cannot be used. Training pays one comparison that fails at its first elements and a copy of the kernel. The arrays
/// are allocated on first use, once; the transform's is pinned, so its cache-line-aligned start stays put. Not
/// thread-safe: one per convolution layer of one network.
/// </remarks>
public sealed class TransformedKernel
{
    private const int AlignmentFloats = 16;

    private float[] _kernel = [];
    private float[] _transformed = [];
    private (int InChannels, int OutChannels) _channels;
    private bool _valid;

    // The transform of w, a kernel of the given channels: whether it is already at Transformed, after making room for
    // `floats` floats of it. A kernel of other channels never matches, even with the same values.
    internal bool Lookup(ReadOnlySpan<float> w, int inChannels, int outChannels, int floats)
    {
        if (_channels != (inChannels, outChannels) || _kernel.Length != w.Length || _transformed.Length != floats + AlignmentFloats)
        {
            (_kernel, _transformed, _channels, _valid) = (new float[w.Length], GC.AllocateArray<float>(floats + AlignmentFloats, pinned: true), (inChannels, outChannels), false);
        }
        if (_valid && MemoryMarshal.Cast<float, int>(w).SequenceEqual(MemoryMarshal.Cast<float, int>(_kernel)))
        {
            return true;
        }
        // Invalid until the caller has written the transform of the kernel copied here.
        _valid = false;
        w.CopyTo(_kernel);
        return false;
    }

    /// <summary>Where the transform is kept: a cache-line-aligned start in the pinned array.</summary>
    internal unsafe float* Transformed
    {
        get
        {
            var start = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_transformed));
            return (float*)((start + AlignmentFloats * sizeof(float) - 1) & ~(nint)(AlignmentFloats * sizeof(float) - 1));
        }
    }

    internal void Commit() => _valid = true;
}

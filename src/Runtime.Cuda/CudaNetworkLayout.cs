namespace Kiln.Runtime.Cuda;

/// <summary>
/// What <see cref="CudaEngine"/> needs to know about a network, in numbers and kernel names only: where it runs,
/// the kernels it launches, and the sizes of its flat buffers and of one example. Immutable once built; any thread
/// may read it.
/// </summary>
public sealed class CudaNetworkLayout
{
    /// <summary>The CUDA device ordinal.</summary>
    public required int Ordinal { get; init; }

    /// <summary>The network's name: the NVRTC program's name and the profile's title.</summary>
    public required string Name { get; init; }

    /// <summary>NVRTC name expressions of the network's kernels; <see cref="CudaEngine.Launch"/> takes an index into them.</summary>
    public required IReadOnlyList<string> Kernels { get; init; }

    /// <summary>Every optimizer kernel a <see cref="CudaUpdate"/> may name, compiled into the module up front so the optimizer can change without a recompile.</summary>
    public required IReadOnlyList<string> UpdateKernels { get; init; }

    /// <summary>Floats in the flat parameter buffer (and the gradient buffer).</summary>
    public required int ParameterCount { get; init; }

    /// <summary>The prefix of the flat buffer the update moves; the rest (moving statistics) only the layers write.</summary>
    public required int TrainableParameterCount { get; init; }

    /// <summary>Where each trainable tensor starts, ascending, the first at 0: per-tensor clipping works tensor by tensor.</summary>
    public required IReadOnlyList<int> TrainableTensorOffsets { get; init; }

    /// <summary>Floats of one example's input.</summary>
    public required int InputSize { get; init; }

    /// <summary>Floats of one example's output (and of its dense target).</summary>
    public required int OutputSize { get; init; }

    /// <summary>Room for the per-step numbers the update kernel reads from device memory.</summary>
    public required int ScalarCount { get; init; }

    /// <summary>Throws, naming the property, when the numbers cannot describe a network.</summary>
    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(Ordinal, nameof(Ordinal));
        ArgumentException.ThrowIfNullOrEmpty(Name, nameof(Name));
        ArgumentNullException.ThrowIfNull(Kernels, nameof(Kernels));
        ArgumentNullException.ThrowIfNull(UpdateKernels, nameof(UpdateKernels));
        ArgumentNullException.ThrowIfNull(TrainableTensorOffsets, nameof(TrainableTensorOffsets));
        ArgumentOutOfRangeException.ThrowIfNegative(TrainableParameterCount, nameof(TrainableParameterCount));
        ArgumentOutOfRangeException.ThrowIfLessThan(ParameterCount, TrainableParameterCount, nameof(ParameterCount));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(InputSize, nameof(InputSize));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(OutputSize, nameof(OutputSize));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ScalarCount, nameof(ScalarCount));
        var previous = -1;
        foreach (var offset in TrainableTensorOffsets)
        {
            if (offset <= previous || offset >= TrainableParameterCount || (previous < 0 && offset != 0))
            {
                throw new ArgumentException($"{nameof(TrainableTensorOffsets)} must ascend from 0 within the {TrainableParameterCount} trainable parameters; found {offset} after {previous}.", nameof(TrainableTensorOffsets));
            }
            previous = offset;
        }
    }
}

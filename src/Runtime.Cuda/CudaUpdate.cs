namespace Kiln.Runtime.Cuda;

/// <summary>Which gradient clipping runs before the update (Keras' <c>clipvalue</c>, <c>clipnorm</c>, <c>global_clipnorm</c>). A plain value: any thread may use it.</summary>
public enum GradientClip
{
    None,

    /// <summary>Every element into [−threshold, threshold] (kiln::clip_value).</summary>
    Value,

    /// <summary>Each trainable tensor to L2 norm at most threshold (kiln::clip_norm).</summary>
    Norm,

    /// <summary>All trainable gradients together to L2 norm at most threshold (kiln::clip_global_norm).</summary>
    GlobalNorm,
}

/// <summary>
/// How <see cref="CudaEngine"/> ends each training step: the clipping, then one launch of <see cref="Kernel"/> over
/// the trainable prefix, which takes (parameters, gradients, slot 0, slot 1, slot 2, n, scalars). Immutable; any
/// thread may read it.
/// </summary>
/// <param name="Kernel">One of <see cref="CudaNetworkLayout.UpdateKernels"/>.</param>
/// <param name="Slots">For each of the <see cref="MaxSlots"/> state slots, whether the kernel uses it; unused ones are passed as null.</param>
/// <param name="SlotInitialValue">What every used slot starts at.</param>
/// <param name="Clip">The clipping before the kernel.</param>
/// <param name="ClipThreshold">The clipping's bound; ignored for <see cref="GradientClip.None"/>.</param>
public sealed record CudaUpdate(string Kernel, IReadOnlyList<bool> Slots, float SlotInitialValue, GradientClip Clip, float ClipThreshold)
{
    /// <summary>The state slots an update kernel takes.</summary>
    public const int MaxSlots = 3;
}

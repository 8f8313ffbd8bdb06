namespace Kiln.Execution;

/// <summary>
/// One optimizer's state on the CPU: its slots over the trainable prefix (unused ones empty) and the iteration count
/// that drives bias correction and schedules. Not thread-safe: the training thread owns it.
/// </summary>
internal sealed class CpuOptimizerState
{
    public CpuOptimizerState(Optimizer optimizer, int trainable)
    {
        Optimizer = optimizer;
        for (var i = 0; i < Slots.Length; i++)
        {
            Slots[i] = optimizer.UsesSlot(i) ? new float[trainable] : [];
            Slots[i].AsSpan().Fill(optimizer.SlotInitialValue);
        }
    }

    public Optimizer Optimizer { get; }

    public float[][] Slots { get; } = new float[Optimizer.MaxSlots][];

    /// <summary>Updates taken so far (Keras' <c>iterations</c>).</summary>
    public long Iterations { get; set; }

    /// <summary>Clips <paramref name="gradients"/> in place, then updates <paramref name="parameters"/> (both the trainable prefix).</summary>
    public void Step(Span<float> parameters, Span<float> gradients, NetworkInfo info)
    {
        Span<float> scalars = stackalloc float[Optimizer.MaxScalars];
        Optimizer.WriteScalars(scalars, Optimizer.LearningRateAt(Iterations), Iterations + 1);
        Iterations++;
        Optimizer.Clip(gradients, info);
        Optimizer.Update(parameters, gradients, Slots, scalars);
    }
}

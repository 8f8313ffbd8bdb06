namespace Kiln.Execution;

/// <summary>Refuses an <see cref="OptimizerState"/> that does not fit the selected optimizer, naming the slot.</summary>
internal static class OptimizerStateCheck
{
    public static void Slots(OptimizerState state, Optimizer optimizer, int trainable)
    {
        if (state.Slots.Length != Optimizer.MaxSlots)
        {
            throw new ArgumentException($"An optimizer state has {Optimizer.MaxSlots} slots (empty when unused), but {state.Slots.Length} were given.", nameof(state));
        }
        for (var i = 0; i < Optimizer.MaxSlots; i++)
        {
            var expected = optimizer.UsesSlot(i) ? trainable : 0;
            if (state.Slots[i].Length != expected)
            {
                throw new ArgumentException($"Slot {i} of {optimizer.GetType().Name} holds {expected} values, but the state has {state.Slots[i].Length}.", nameof(state));
            }
        }
        if (state.Iterations < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(state), state.Iterations, "The iteration count cannot be negative.");
        }
    }
}

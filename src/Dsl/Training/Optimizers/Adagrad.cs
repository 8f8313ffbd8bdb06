namespace Kiln;

/// <summary>
/// Adagrad with Keras' defaults and formula. Slot: the accumulator of squared gradients, starting at
/// <see cref="InitialAccumulatorValue"/>. Thread-safety as <see cref="Optimizer"/>.
/// </summary>
public sealed class Adagrad : Optimizer
{
    public Adagrad(float learningRate = 0.001f, float initialAccumulatorValue = 0.1f, float epsilon = 1e-7f) : base(learningRate) =>
        (InitialAccumulatorValue, Epsilon) = (CheckNonNegative(initialAccumulatorValue), CheckPositive(epsilon, "ε"));

    public Adagrad(LearningRateSchedule learningRate, float initialAccumulatorValue = 0.1f, float epsilon = 1e-7f) : base(learningRate) =>
        (InitialAccumulatorValue, Epsilon) = (CheckNonNegative(initialAccumulatorValue), CheckPositive(epsilon, "ε"));

    public float InitialAccumulatorValue { get; }
    public float Epsilon { get; }

    internal override string CudaKernel => "kiln::adagrad";
    internal override bool UsesSlot(int slot) => slot == 0;
    internal override float SlotInitialValue => InitialAccumulatorValue;

    internal override void WriteScalars(Span<float> scalars, float learningRate, long step) => (scalars[0], scalars[1]) = (learningRate, Epsilon);

    internal override void Update(Span<float> parameters, ReadOnlySpan<float> gradients, float[][] slots, ReadOnlySpan<float> scalars) =>
        Runtime.Cpu.Adagrad.Step(parameters, gradients, slots[0], scalars[0], scalars[1]);

    private static float CheckNonNegative(float value) =>
        value >= 0 && float.IsFinite(value) ? value : throw new ArgumentOutOfRangeException("initialAccumulatorValue", value, "The initial accumulator value must be a finite number ≥ 0.");
}

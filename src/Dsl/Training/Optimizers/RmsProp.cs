namespace Kiln;

/// <summary>
/// RMSprop with Keras' defaults and formula (plain momentum, optional centering). Slots: the velocity, the momentum
/// (with momentum) and the average gradient (centered). Thread-safety as <see cref="Optimizer"/>.
/// </summary>
public sealed class RmsProp : Optimizer
{
    public RmsProp(float learningRate = 0.001f, float rho = 0.9f, float momentum = 0f, float epsilon = 1e-7f, bool centered = false) : base(learningRate) =>
        (Rho, Momentum, Epsilon, Centered) = (CheckUnit(rho, "ρ"), CheckUnit(momentum, "Momentum"), CheckPositive(epsilon, "ε"), centered);

    public RmsProp(LearningRateSchedule learningRate, float rho = 0.9f, float momentum = 0f, float epsilon = 1e-7f, bool centered = false) : base(learningRate) =>
        (Rho, Momentum, Epsilon, Centered) = (CheckUnit(rho, "ρ"), CheckUnit(momentum, "Momentum"), CheckPositive(epsilon, "ε"), centered);

    public float Rho { get; }
    public float Momentum { get; }
    public float Epsilon { get; }
    public bool Centered { get; }

    internal override string CudaKernel => "kiln::rmsprop";
    internal override bool UsesSlot(int slot) => slot == 0 || (slot == 1 && Momentum > 0) || (slot == 2 && Centered);

    internal override void WriteScalars(Span<float> scalars, float learningRate, long step) =>
        (scalars[0], scalars[1], scalars[2], scalars[3], scalars[4]) = (learningRate, Rho, Momentum, Epsilon, Centered ? 1f : 0f);

    internal override void Update(Span<float> parameters, ReadOnlySpan<float> gradients, float[][] slots, ReadOnlySpan<float> scalars) =>
        Runtime.Cpu.RmsProp.Step(parameters, gradients, slots[0], slots[1], slots[2], scalars[0], scalars[1], scalars[2], scalars[3], scalars[4] != 0f);
}

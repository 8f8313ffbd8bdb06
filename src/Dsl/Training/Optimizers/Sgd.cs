namespace Kiln;

/// <summary>
/// Stochastic gradient descent, optionally with (Nesterov) momentum, as in Keras. Slot: the velocity, only with
/// momentum. Thread-safety as <see cref="Optimizer"/>.
/// </summary>
public sealed class Sgd : Optimizer
{
    public Sgd(float learningRate = 0.01f, float momentum = 0f, bool nesterov = false) : base(learningRate) =>
        (Momentum, Nesterov) = (CheckUnit(momentum, "Momentum"), nesterov);

    public Sgd(LearningRateSchedule learningRate, float momentum = 0f, bool nesterov = false) : base(learningRate) =>
        (Momentum, Nesterov) = (CheckUnit(momentum, "Momentum"), nesterov);

    public float Momentum { get; }
    public bool Nesterov { get; }

    internal override string CudaKernel => "kiln::sgd";
    internal override bool UsesSlot(int slot) => slot == 0 && Momentum > 0;

    internal override void WriteScalars(Span<float> scalars, float learningRate, long step) =>
        (scalars[0], scalars[1], scalars[2]) = (learningRate, Momentum, Nesterov ? 1f : 0f);

    internal override void Update(Span<float> parameters, ReadOnlySpan<float> gradients, float[][] slots, ReadOnlySpan<float> scalars) =>
        Runtime.Cpu.Sgd.Step(parameters, gradients, slots[0], scalars[0], scalars[1], scalars[2] != 0f);
}

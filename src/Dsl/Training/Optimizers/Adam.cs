namespace Kiln;

/// <summary>
/// Adam with Keras' defaults and formula (ε outside the square root, bias correction folded into the step size).
/// Slots: first and second moments. Thread-safety as <see cref="Optimizer"/>.
/// </summary>
public sealed class Adam : Optimizer
{
    public Adam(float learningRate = 0.001f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-7f) : base(learningRate) =>
        (Beta1, Beta2, Epsilon) = (CheckUnit(beta1, "β1"), CheckUnit(beta2, "β2"), CheckPositive(epsilon, "ε"));

    public Adam(LearningRateSchedule learningRate, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-7f) : base(learningRate) =>
        (Beta1, Beta2, Epsilon) = (CheckUnit(beta1, "β1"), CheckUnit(beta2, "β2"), CheckPositive(epsilon, "ε"));

    public float Beta1 { get; }
    public float Beta2 { get; }
    public float Epsilon { get; }

    internal override string CudaKernel => "kiln::adam";
    internal override bool UsesSlot(int slot) => slot < 2;
    internal override void WriteScalars(Span<float> scalars, float learningRate, long step) => AdamScalars.Write(scalars, learningRate, Beta1, Beta2, Epsilon, 0f, step);
    internal override void Update(Span<float> parameters, ReadOnlySpan<float> gradients, float[][] slots, ReadOnlySpan<float> scalars) =>
        AdamScalars.Update(parameters, gradients, slots, scalars);
}

/// <summary>
/// AdamW: Adam with Keras' decoupled weight decay, p −= p·wd·lr before each Adam step (every trainable tensor, biases
/// included, as Keras does without <c>exclude_from_weight_decay</c>). Thread-safety as <see cref="Optimizer"/>.
/// </summary>
public sealed class AdamW : Optimizer
{
    public AdamW(float learningRate = 0.001f, float weightDecay = 0.004f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-7f) : base(learningRate) =>
        (WeightDecay, Beta1, Beta2, Epsilon) = (CheckPositive(weightDecay, "weightDecay"), CheckUnit(beta1, "β1"), CheckUnit(beta2, "β2"), CheckPositive(epsilon, "ε"));

    public AdamW(LearningRateSchedule learningRate, float weightDecay = 0.004f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-7f) : base(learningRate) =>
        (WeightDecay, Beta1, Beta2, Epsilon) = (CheckPositive(weightDecay, "weightDecay"), CheckUnit(beta1, "β1"), CheckUnit(beta2, "β2"), CheckPositive(epsilon, "ε"));

    public float WeightDecay { get; }
    public float Beta1 { get; }
    public float Beta2 { get; }
    public float Epsilon { get; }

    internal override string CudaKernel => "kiln::adam";
    internal override bool UsesSlot(int slot) => slot < 2;
    internal override void WriteScalars(Span<float> scalars, float learningRate, long step) => AdamScalars.Write(scalars, learningRate, Beta1, Beta2, Epsilon, WeightDecay, step);
    internal override void Update(Span<float> parameters, ReadOnlySpan<float> gradients, float[][] slots, ReadOnlySpan<float> scalars) =>
        AdamScalars.Update(parameters, gradients, slots, scalars);
}

/// <summary>The layout of adam.cu's scalars: α, β1, β2, ε, weight decay, lr.</summary>
internal static class AdamScalars
{
    public static void Write(Span<float> s, float lr, float beta1, float beta2, float epsilon, float weightDecay, long step)
    {
        s[0] = Runtime.Cpu.Adam.Alpha(lr, beta1, beta2, step);
        (s[1], s[2], s[3], s[4], s[5]) = (beta1, beta2, epsilon, weightDecay, lr);
    }

    public static void Update(Span<float> p, ReadOnlySpan<float> g, float[][] slots, ReadOnlySpan<float> s) =>
        Runtime.Cpu.Adam.Update(p, g, slots[0], slots[1], s[0], s[1], s[2], s[3], s[4], s[5]);
}

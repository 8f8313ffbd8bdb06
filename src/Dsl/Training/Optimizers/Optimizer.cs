using Kiln.Runtime.Cpu;

namespace Kiln;

/// <summary>
/// How parameters move along their gradients. Each optimizer declares its per-parameter state slots, the numbers its
/// step reads (written once per step on the host, read by the CPU kernel and from device memory by the CUDA kernel),
/// and its kernels; the executors only allocate the slots and call them. Passing the same instance to a later Fit
/// keeps its state. Gradient clipping follows Keras: at most one of <see cref="ClipNorm"/>, <see cref="ClipValue"/>
/// and <see cref="GlobalClipNorm"/>.
/// Not thread-safe: the training thread reads it every step; change <see cref="LearningRate"/> only between steps
/// (from a callback), never from another thread while Fit runs.
/// </summary>
public abstract class Optimizer
{
    /// <summary>The most state slots any optimizer uses (RMSprop with momentum, centered).</summary>
    internal const int MaxSlots = 3;

    /// <summary>Room for the per-step numbers (<see cref="WriteScalars"/>) on both runtimes.</summary>
    internal const int MaxScalars = 8;

    /// <summary>Every optimizer kernel in the CUDA library; each executor's module holds them all.</summary>
    internal static readonly string[] CudaKernels = ["kiln::adam", "kiln::sgd", "kiln::rmsprop", "kiln::adagrad"];

    private float _learningRate;
    private readonly float? _clipNorm, _clipValue, _globalClipNorm;

    private protected Optimizer(float learningRate) => LearningRate = learningRate;

    private protected Optimizer(LearningRateSchedule schedule)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        Schedule = schedule;
        _learningRate = schedule.Rate(0);
    }

    /// <summary>
    /// The rate of every step (settable between steps, as ReduceLROnPlateau does), or with a <see cref="Schedule"/>
    /// its rate at step 0 (setting it then throws, as in Keras).
    /// </summary>
    public float LearningRate
    {
        get => _learningRate;
        set
        {
            if (Schedule is not null)
            {
                throw new InvalidOperationException($"This optimizer's learning rate follows a {Schedule.GetType().Name}; it cannot be set.");
            }
            _learningRate = CheckRate(value, nameof(LearningRate));
        }
    }

    /// <summary>The learning-rate schedule, evaluated at each step's 0-based iteration; null for a fixed rate.</summary>
    public LearningRateSchedule? Schedule { get; }

    /// <summary>Clips each trainable tensor's gradient to this L2 norm (Keras' <c>clipnorm</c>).</summary>
    public float? ClipNorm { get => _clipNorm; init => _clipNorm = CheckClip(value, nameof(ClipNorm)); }

    /// <summary>Clips every gradient element into [−v, v] (Keras' <c>clipvalue</c>).</summary>
    public float? ClipValue { get => _clipValue; init => _clipValue = CheckClip(value, nameof(ClipValue)); }

    /// <summary>Scales all gradients together so their joint L2 norm is at most this (Keras' <c>global_clipnorm</c>).</summary>
    public float? GlobalClipNorm { get => _globalClipNorm; init => _globalClipNorm = CheckClip(value, nameof(GlobalClipNorm)); }

    /// <summary>The rate at 0-based iteration <paramref name="iteration"/> (Keras evaluates its schedule at <c>iterations</c> before the increment).</summary>
    public float LearningRateAt(long iteration) => Schedule is { } schedule ? schedule.Rate(iteration) : _learningRate;

    /// <summary>The CUDA kernel's name expression; it takes (p, g, slot0, slot1, slot2, n, scalars).</summary>
    internal abstract string CudaKernel { get; }

    /// <summary>Whether state slot <paramref name="slot"/> (0 to <see cref="MaxSlots"/> − 1) is allocated; unused ones are empty (null on the device).</summary>
    internal abstract bool UsesSlot(int slot);

    /// <summary>What every slot starts at (Keras' Adagrad starts its accumulator at 0.1).</summary>
    internal virtual float SlotInitialValue => 0f;

    /// <summary>The numbers step <paramref name="step"/> (1-based) reads, at learning rate <paramref name="learningRate"/>.</summary>
    internal abstract void WriteScalars(Span<float> scalars, float learningRate, long step);

    /// <summary>The CPU step over the trainable prefix: one pass over the flat buffers.</summary>
    internal abstract void Update(Span<float> parameters, ReadOnlySpan<float> gradients, float[][] slots, ReadOnlySpan<float> scalars);

    /// <summary>Keras' clipping of the trainable prefix's gradients, tensor by tensor for <see cref="ClipNorm"/>.</summary>
    internal void Clip(Span<float> gradients, NetworkInfo info)
    {
        if (ClipNorm is { } norm)
        {
            foreach (var (offset, length) in TrainableTensors(info))
            {
                GradientClipping.ByNorm(gradients.Slice(offset, length), norm);
            }
        }
        else if (GlobalClipNorm is { } global)
        {
            GradientClipping.ByGlobalNorm(gradients, global);
        }
        else if (ClipValue is { } value)
        {
            GradientClipping.ByValue(gradients, value);
        }
    }

    /// <summary>Offset and length of each trainable tensor, in buffer order.</summary>
    internal static IEnumerable<(int Offset, int Length)> TrainableTensors(NetworkInfo info) =>
        info.Parameters.Where(p => p.Trainable).Select(p => (p.Offset, p.Length));

    private protected static float CheckRate(float value, string name) =>
        value > 0 && float.IsFinite(value) ? value : throw new ArgumentOutOfRangeException(name, value, "The learning rate must be a positive finite number.");

    private protected static float CheckUnit(float value, string name) =>
        value is >= 0 and < 1 ? value : throw new ArgumentOutOfRangeException(name, value, $"{name} must be in [0, 1).");

    private protected static float CheckPositive(float value, string name) =>
        value > 0 && float.IsFinite(value) ? value : throw new ArgumentOutOfRangeException(name, value, $"{name} must be a positive finite number.");

    private float? CheckClip(float? value, string name)
    {
        if (value is { } v && !(v > 0 && float.IsFinite(v)))
        {
            throw new ArgumentOutOfRangeException(name, v, $"{name} must be a positive finite number.");
        }
        var others = new[] { (nameof(ClipNorm), _clipNorm), (nameof(ClipValue), _clipValue), (nameof(GlobalClipNorm), _globalClipNorm) }
            .Where(o => o.Item1 != name && o.Item2 is not null).Select(o => o.Item1).ToList();
        if (value is not null && others.Count > 0)
        {
            throw new ArgumentException($"Only one of ClipNorm, ClipValue and GlobalClipNorm can be set, as in Keras; {name} was set after {others[0]}.", name);
        }
        return value;
    }
}

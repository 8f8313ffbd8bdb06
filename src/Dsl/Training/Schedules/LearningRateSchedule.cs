namespace Kiln;

/// <summary>
/// A learning rate as a function of the 0-based training step (Keras' <c>LearningRateSchedule</c>: the optimizer
/// calls it with its <c>iterations</c> before each update). The built-ins compute in double and round once.
/// Immutable: safe to call from any thread.
/// </summary>
public abstract class LearningRateSchedule
{
    /// <summary>The rate for the update at 0-based step <paramref name="step"/>.</summary>
    public abstract float Rate(long step);

    private protected static double Positive(double value, string name) =>
        value > 0 && double.IsFinite(value) ? value : throw new ArgumentOutOfRangeException(name, value, $"{name} must be a positive finite number.");

    private protected static long PositiveSteps(long value, string name) =>
        value > 0 ? value : throw new ArgumentOutOfRangeException(name, value, $"{name} must be positive.");
}

/// <summary>Keras' <c>ExponentialDecay</c>: lr₀ · rate^(step / decaySteps), the exponent floored when <c>staircase</c>.</summary>
public sealed class ExponentialDecay(double initialLearningRate, long decaySteps, double decayRate, bool staircase = false) : LearningRateSchedule
{
    public double InitialLearningRate { get; } = Positive(initialLearningRate, nameof(initialLearningRate));
    public long DecaySteps { get; } = PositiveSteps(decaySteps, nameof(decaySteps));
    public double DecayRate { get; } = Positive(decayRate, nameof(decayRate));
    public bool Staircase { get; } = staircase;

    public override float Rate(long step)
    {
        var p = (double)step / DecaySteps;
        return (float)(InitialLearningRate * Math.Pow(DecayRate, Staircase ? Math.Floor(p) : p));
    }
}

/// <summary>Keras' <c>InverseTimeDecay</c>: lr₀ / (1 + rate · step / decaySteps), the quotient floored when <c>staircase</c>.</summary>
public sealed class InverseTimeDecay(double initialLearningRate, long decaySteps, double decayRate, bool staircase = false) : LearningRateSchedule
{
    public double InitialLearningRate { get; } = Positive(initialLearningRate, nameof(initialLearningRate));
    public long DecaySteps { get; } = PositiveSteps(decaySteps, nameof(decaySteps));
    public double DecayRate { get; } = decayRate >= 0 && double.IsFinite(decayRate) ? decayRate
        : throw new ArgumentOutOfRangeException(nameof(decayRate), decayRate, "decayRate must be a finite number ≥ 0.");
    public bool Staircase { get; } = staircase;

    public override float Rate(long step)
    {
        var p = (double)step / DecaySteps;
        return (float)(InitialLearningRate / (1 + DecayRate * (Staircase ? Math.Floor(p) : p)));
    }
}

/// <summary>
/// Keras' <c>PiecewiseConstantDecay</c>: <c>values[0]</c> while step ≤ <c>boundaries[0]</c>, <c>values[i]</c> while
/// <c>boundaries[i−1]</c> &lt; step ≤ <c>boundaries[i]</c>, and the last value after the last boundary.
/// </summary>
public sealed class PiecewiseConstantDecay : LearningRateSchedule
{
    private readonly long[] _boundaries;
    private readonly float[] _values;

    public PiecewiseConstantDecay(IReadOnlyList<long> boundaries, IReadOnlyList<float> values)
    {
        ArgumentNullException.ThrowIfNull(boundaries);
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count != boundaries.Count + 1)
        {
            throw new ArgumentException($"{boundaries.Count} boundaries need {boundaries.Count + 1} values, but {values.Count} were given.", nameof(values));
        }
        for (var i = 1; i < boundaries.Count; i++)
        {
            if (boundaries[i] <= boundaries[i - 1])
            {
                throw new ArgumentException($"The boundaries must increase: boundaries[{i}] = {boundaries[i]} follows {boundaries[i - 1]}.", nameof(boundaries));
            }
        }
        foreach (var v in values)
        {
            Positive(v, nameof(values));
        }
        _boundaries = [.. boundaries];
        _values = [.. values];
    }

    public IReadOnlyList<long> Boundaries => _boundaries;
    public IReadOnlyList<float> Values => _values;

    public override float Rate(long step)
    {
        var i = 0;
        while (i < _boundaries.Length && step > _boundaries[i])
        {
            i++;
        }
        return _values[i];
    }
}

/// <summary>
/// Keras' <c>CosineDecay</c>. Without warm-up: lr₀ · ((1 − α)·½(1 + cos(π·min(step, decaySteps)/decaySteps)) + α).
/// With <c>warmupTarget</c>: the rate rises linearly from lr₀ to the target over <c>warmupSteps</c>, then decays
/// from the target over <c>decaySteps</c> (the step is capped at warmupSteps + decaySteps).
/// </summary>
public sealed class CosineDecay : LearningRateSchedule
{
    public CosineDecay(double initialLearningRate, long decaySteps, double alpha = 0, double? warmupTarget = null, long warmupSteps = 0)
    {
        InitialLearningRate = initialLearningRate >= 0 && double.IsFinite(initialLearningRate) ? initialLearningRate
            : throw new ArgumentOutOfRangeException(nameof(initialLearningRate), initialLearningRate, "initialLearningRate must be a finite number ≥ 0.");
        DecaySteps = PositiveSteps(decaySteps, nameof(decaySteps));
        Alpha = alpha is >= 0 and <= 1 ? alpha : throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "alpha (the final fraction of the rate) must be in [0, 1].");
        if (warmupTarget is { } target)
        {
            Positive(target, nameof(warmupTarget));
            if (warmupSteps <= 0)
            {
                throw new ArgumentOutOfRangeException(nameof(warmupSteps), warmupSteps, "A warm-up target needs a positive number of warm-up steps.");
            }
        }
        else if (warmupSteps != 0)
        {
            throw new ArgumentException("warmupSteps needs a warmupTarget: the rate the warm-up climbs to.", nameof(warmupSteps));
        }
        WarmupTarget = warmupTarget;
        WarmupSteps = warmupSteps;
    }

    public double InitialLearningRate { get; }
    public long DecaySteps { get; }
    public double Alpha { get; }
    public double? WarmupTarget { get; }
    public long WarmupSteps { get; }

    public override float Rate(long step)
    {
        if (WarmupTarget is not { } target)
        {
            return (float)Decayed(Math.Min(step, DecaySteps), InitialLearningRate);
        }
        var s = Math.Min(step, DecaySteps + WarmupSteps);
        return s < WarmupSteps
            ? (float)((target - InitialLearningRate) * ((double)s / WarmupSteps) + InitialLearningRate)
            : (float)Decayed(s - WarmupSteps, target);
    }

    private double Decayed(long step, double from)
    {
        var cosine = 0.5 * (1 + Math.Cos(Math.PI * step / DecaySteps));
        return from * ((1 - Alpha) * cosine + Alpha);
    }
}

namespace Kiln;

/// <summary>
/// Keras' <c>ReduceLROnPlateau</c>: when <paramref name="monitor"/> has not improved by more than
/// <paramref name="minDelta"/> for <paramref name="patience"/> epochs, multiplies the optimizer's learning rate by
/// <paramref name="factor"/> (not below <paramref name="minLearningRate"/>), then waits <paramref name="cooldown"/>
/// epochs before counting again; <paramref name="verbose"/> says so on the progress output. Needs a fixed-rate optimizer (a schedule's rate cannot be set).
/// Thread-safety as <see cref="Callback"/>.
/// </summary>
public sealed class ReduceLROnPlateau(string monitor = "val_loss", double factor = 0.1, int patience = 10, MonitorMode mode = MonitorMode.Auto,
    double minDelta = 1e-4, int cooldown = 0, double minLearningRate = 0, bool verbose = false) : Callback
{
    private readonly bool _maximise = Monitor.Maximises(Monitor.Check(monitor), mode);
    private double _best;
    private int _wait;
    private int _cooldownCounter;

    public string MonitorName { get; } = monitor;
    public double Factor { get; } = factor is > 0 and < 1 ? factor : throw new ArgumentOutOfRangeException(nameof(factor), factor, "ReduceLROnPlateau does not support a factor ≥ 1 (or ≤ 0).");
    public int Patience { get; } = patience >= 0 ? patience : throw new ArgumentOutOfRangeException(nameof(patience), patience, "patience must be ≥ 0.");
    public double MinDelta { get; } = minDelta;
    public int Cooldown { get; } = cooldown >= 0 ? cooldown : throw new ArgumentOutOfRangeException(nameof(cooldown), cooldown, "cooldown must be ≥ 0.");
    public double MinLearningRate { get; } = minLearningRate;

    public override void OnTrainBegin(FitContext context)
    {
        if (context.Optimizer.Schedule is not null)
        {
            throw new InvalidOperationException("ReduceLROnPlateau needs a fixed learning rate, but the optimizer follows a schedule.");
        }
        (_best, _wait, _cooldownCounter) = (_maximise ? double.NegativeInfinity : double.PositiveInfinity, 0, 0);
    }

    public override void OnEpochEnd(EpochMetrics logs, FitContext context)
    {
        if (Monitor.Value(logs, MonitorName, context, nameof(ReduceLROnPlateau)) is not { } current)
        {
            return;
        }
        if (_cooldownCounter > 0)
        {
            _cooldownCounter--;
            _wait = 0;
        }
        if (_maximise ? current > _best + MinDelta : current < _best - MinDelta)
        {
            (_best, _wait) = (current, 0);
        }
        else if (_cooldownCounter == 0 && ++_wait >= Patience)
        {
            var old = context.Optimizer.LearningRate;
            if (old > (float)MinLearningRate)
            {
                var rate = (float)Math.Max(old * Factor, MinLearningRate);
                context.Optimizer.LearningRate = rate;
                if (verbose)
                {
                    context.Output?.WriteLine($"Epoch {logs.Epoch}: ReduceLROnPlateau reducing learning rate to {rate.ToString(System.Globalization.CultureInfo.InvariantCulture)}.");
                }
                (_cooldownCounter, _wait) = (Cooldown, 0);
            }
        }
    }
}

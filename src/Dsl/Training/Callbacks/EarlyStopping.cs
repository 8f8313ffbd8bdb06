namespace Kiln;

/// <summary>
/// Keras' <c>EarlyStopping</c>: stops when <paramref name="monitor"/> has not improved by more than
/// <paramref name="minDelta"/> for <paramref name="patience"/> epochs, counting from epoch
/// <paramref name="startFromEpoch"/> + 1. With <paramref name="restoreBestWeights"/>, the network ends with the
/// weights of the best epoch (also when training ran to the end). <paramref name="verbose"/> prints Keras' messages to the
/// progress output. Thread-safety as <see cref="Callback"/>.
/// </summary>
public sealed class EarlyStopping(string monitor = "val_loss", double minDelta = 0, int patience = 0, MonitorMode mode = MonitorMode.Auto,
    bool restoreBestWeights = false, int startFromEpoch = 0, bool verbose = false) : Callback
{
    private readonly bool _maximise = Monitor.Maximises(Monitor.Check(monitor), mode);
    private double? _best;
    private float[]? _bestWeights;
    private int _wait;

    public string MonitorName { get; } = monitor;
    public double MinDelta { get; } = Math.Abs(minDelta);
    public int Patience { get; } = patience >= 0 ? patience : throw new ArgumentOutOfRangeException(nameof(patience), patience, "patience must be ≥ 0.");
    public bool RestoreBestWeights { get; } = restoreBestWeights;
    public int StartFromEpoch { get; } = startFromEpoch >= 0 ? startFromEpoch : throw new ArgumentOutOfRangeException(nameof(startFromEpoch), startFromEpoch, "startFromEpoch must be ≥ 0.");

    /// <summary>The epoch training was stopped at, 0 if it was not.</summary>
    public int StoppedEpoch { get; private set; }

    /// <summary>The best epoch seen (1-based), 0 before any.</summary>
    public int BestEpoch { get; private set; }

    public override void OnTrainBegin(FitContext context)
    {
        (_best, _bestWeights, _wait, StoppedEpoch, BestEpoch) = (null, null, 0, 0, 0);
    }

    public override void OnEpochEnd(EpochMetrics logs, FitContext context)
    {
        if (logs.Epoch <= StartFromEpoch || Monitor.Value(logs, MonitorName, context, nameof(EarlyStopping)) is not { } current)
        {
            return;
        }
        if (RestoreBestWeights && _bestWeights is null)
        {
            // Until something improves, the first monitored epoch's weights are the best.
            _bestWeights = context.Network.GetParameters();
            BestEpoch = logs.Epoch;
        }
        _wait++;
        if (_best is not { } best || (_maximise ? current - MinDelta > best : current + MinDelta < best))
        {
            (_best, BestEpoch, _wait) = (current, logs.Epoch, 0);
            if (RestoreBestWeights)
            {
                _bestWeights = context.Network.GetParameters();
            }
            return;
        }
        if (_wait >= Patience && logs.Epoch > 1)
        {
            StoppedEpoch = logs.Epoch;
            context.StopTraining = true;
        }
    }

    public override void OnTrainEnd(FitContext context)
    {
        if (StoppedEpoch > 0 && verbose)
        {
            context.Output?.WriteLine($"Epoch {StoppedEpoch}: early stopping");
        }
        if (RestoreBestWeights && _bestWeights is not null)
        {
            if (verbose)
            {
                context.Output?.WriteLine($"Restoring model weights from the end of the best epoch: {BestEpoch}.");
            }
            context.Network.SetParameters(_bestWeights);
        }
    }
}

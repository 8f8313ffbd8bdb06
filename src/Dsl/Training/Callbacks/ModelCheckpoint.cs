using System.Globalization;

namespace Kiln;

/// <summary>
/// Keras' <c>ModelCheckpoint</c> (weights only, safetensors): saves after each epoch to <paramref name="filePath"/>,
/// with <c>{epoch}</c> replaced by the 1-based epoch. With <paramref name="saveBestOnly"/>, saves only when
/// <paramref name="monitor"/> beats the best so far (or <paramref name="initialValueThreshold"/>). Written atomically,
/// so a crash never leaves a half-written file. With <paramref name="saveTrainingState"/>, the file also holds the
/// optimizer's state and the data position, so <see cref="FitOptions.ResumeFrom"/> can continue from it.
/// Thread-safety as <see cref="Callback"/>.
/// </summary>
public sealed class ModelCheckpoint(string filePath, string monitor = "val_loss", bool saveBestOnly = false, MonitorMode mode = MonitorMode.Auto,
    double? initialValueThreshold = null, bool saveTrainingState = false) : Callback
{
    private readonly bool _maximise = Monitor.Maximises(Monitor.Check(monitor), mode);
    private double _best;

    public string FilePath { get; } = !string.IsNullOrWhiteSpace(filePath) ? filePath : throw new ArgumentException("A checkpoint needs a file path.", nameof(filePath));
    public string MonitorName { get; } = monitor;
    public bool SaveBestOnly { get; } = saveBestOnly;

    public override void OnTrainBegin(FitContext context) =>
        _best = initialValueThreshold ?? (_maximise ? double.NegativeInfinity : double.PositiveInfinity);

    public override void OnEpochEnd(EpochMetrics logs, FitContext context)
    {
        if (SaveBestOnly)
        {
            if (Monitor.Value(logs, MonitorName, context, nameof(ModelCheckpoint)) is not { } current || !(_maximise ? current > _best : current < _best))
            {
                return;
            }
            _best = current;
        }
        var path = FilePath.Replace("{epoch}", logs.Epoch.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
        if (saveTrainingState)
        {
            context.Network.SaveTrainingCheckpoint(path, logs.Epoch, context.Batches, context.Passes);
        }
        else
        {
            context.Network.Save(path);
        }
    }
}

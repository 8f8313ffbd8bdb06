namespace Kiln;

/// <summary>Metrics of one epoch; validation values are null without a validation set, accuracy is NaN for regression.</summary>
public sealed record EpochMetrics(int Epoch, int Steps, double Loss, double Accuracy, double? ValidationLoss, double? ValidationAccuracy, TimeSpan Duration);

/// <summary>What <see cref="Network.Fit"/> returns: one entry per completed epoch, like Keras' <c>History</c>.</summary>
public sealed class History
{
    private readonly List<EpochMetrics> _epochs = [];

    public IReadOnlyList<EpochMetrics> Epochs => _epochs;
    public IReadOnlyList<double> Loss => _epochs.Select(e => e.Loss).ToList();
    public IReadOnlyList<double> Accuracy => _epochs.Select(e => e.Accuracy).ToList();
    public IReadOnlyList<double?> ValidationLoss => _epochs.Select(e => e.ValidationLoss).ToList();
    public IReadOnlyList<double?> ValidationAccuracy => _epochs.Select(e => e.ValidationAccuracy).ToList();

    internal void Add(EpochMetrics epoch) => _epochs.Add(epoch);
}

/// <summary>The result of <see cref="Network.Evaluate"/>.</summary>
public sealed record Evaluation(double Loss, double Accuracy, long Count);

/// <summary>Loss and accuracy of one batch, from <see cref="Network.TrainOnBatch"/>.</summary>
public readonly record struct BatchResult(double Loss, double Accuracy);

/// <summary>Reported through <see cref="IProgress{T}"/> while training.</summary>
public sealed record TrainingProgress(int Epoch, int Epochs, int Step, int? StepsPerEpoch, double Loss, double Accuracy);

/// <summary>Training stopped because of bad numbers; says at which epoch and step.</summary>
public sealed class TrainingException(string message, Exception? inner = null) : Exception(message, inner)
{
}

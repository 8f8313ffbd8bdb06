namespace Kiln;

/// <summary>
/// Metrics of one epoch (the logs callbacks see); validation values are null without a validation set. Accuracy is NaN
/// for regression, which logs Keras' <c>mae</c> instead (<see cref="MeanAbsoluteError"/>, null otherwise). Immutable.
/// </summary>
public sealed record EpochMetrics(int Epoch, int Steps, double Loss, double Accuracy, double? ValidationLoss, double? ValidationAccuracy, TimeSpan Duration)
{
    /// <summary>The names callbacks monitor, as Keras logs them.</summary>
    public static readonly IReadOnlyList<string> Names = ["loss", "accuracy", "mae", "val_loss", "val_accuracy", "val_mae", "learning_rate"];

    /// <summary>Keras' <c>mae</c> of a regression (mean squared error) network: mean over examples of mean |output − target|.</summary>
    public double? MeanAbsoluteError { get; init; }

    /// <summary>The <c>mae</c> of the validation set, when there is one and the network is a regression.</summary>
    public double? ValidationMeanAbsoluteError { get; init; }

    /// <summary>The optimizer's learning rate during the epoch's last step.</summary>
    public double LearningRate { get; init; } = double.NaN;

    /// <summary>A metric by its Keras name; null when this epoch did not log it (no validation set, no accuracy).</summary>
    public double? Metric(string name) => name switch
    {
        "loss" => Loss,
        "accuracy" => double.IsNaN(Accuracy) ? null : Accuracy,
        "val_loss" => ValidationLoss,
        "val_accuracy" => ValidationAccuracy is { } a && !double.IsNaN(a) ? a : null,
        "mae" => MeanAbsoluteError,
        "val_mae" => ValidationMeanAbsoluteError,
        "learning_rate" => double.IsNaN(LearningRate) ? null : LearningRate,
        _ => throw new ArgumentException($"Unknown metric '{name}'; Fit logs {string.Join(", ", Names)}.", nameof(name)),
    };

    /// <summary>The names this epoch logged.</summary>
    public IEnumerable<string> Available() => Names.Where(n => Metric(n) is not null);
}

/// <summary>What <see cref="Network.Fit"/> returns: one entry per completed epoch, like Keras' <c>History</c>.</summary>
public sealed class History
{
    private readonly List<EpochMetrics> _epochs = [];

    public IReadOnlyList<EpochMetrics> Epochs => _epochs;
    public IReadOnlyList<double> Loss => _epochs.Select(e => e.Loss).ToList();
    public IReadOnlyList<double> Accuracy => _epochs.Select(e => e.Accuracy).ToList();
    public IReadOnlyList<double?> ValidationLoss => _epochs.Select(e => e.ValidationLoss).ToList();
    public IReadOnlyList<double?> ValidationAccuracy => _epochs.Select(e => e.ValidationAccuracy).ToList();
    /// <summary>Keras' <c>history["mae"]</c>: null entries for a network that is not a regression.</summary>
    public IReadOnlyList<double?> MeanAbsoluteError => _epochs.Select(e => e.MeanAbsoluteError).ToList();
    public IReadOnlyList<double?> ValidationMeanAbsoluteError => _epochs.Select(e => e.ValidationMeanAbsoluteError).ToList();

    internal void Add(EpochMetrics epoch) => _epochs.Add(epoch);
}

/// <summary>
/// The result of <see cref="Network.Evaluate"/>: accuracy for classification (binary accuracy under binary
/// crossentropy), NaN for a regression, whose <see cref="MeanAbsoluteError"/> is Keras' <c>mae</c> (NaN otherwise).
/// </summary>
public sealed record Evaluation(double Loss, double Accuracy, long Count)
{
    public double MeanAbsoluteError { get; init; } = double.NaN;
}

/// <summary>Loss and accuracy of one batch, from <see cref="Network.TrainOnBatch"/>.</summary>
public readonly record struct BatchResult(double Loss, double Accuracy);

/// <summary>Reported through <see cref="IProgress{T}"/> while training.</summary>
public sealed record TrainingProgress(int Epoch, int Epochs, int Step, int? StepsPerEpoch, double Loss, double Accuracy);

/// <summary>Training stopped because of bad numbers; says at which epoch and step.</summary>
public sealed class TrainingException(string message, Exception? inner = null) : Exception(message, inner)
{
}

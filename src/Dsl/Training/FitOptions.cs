namespace Kiln;

/// <summary>Less common knobs of <see cref="Network.Fit"/>. Immutable once built; may be shared by fits that do not run at once.</summary>
public sealed class FitOptions
{
    /// <summary>Print Keras-style progress (the default). False is the quiet mode.</summary>
    public bool Verbose { get; init; } = true;

    /// <summary>Where progress goes; the console by default.</summary>
    public TextWriter? Output { get; init; }

    /// <summary>
    /// Called in order at each point of training (Keras' <c>callbacks=</c>): <see cref="EarlyStopping"/>,
    /// <see cref="ReduceLROnPlateau"/>, <see cref="ModelCheckpoint"/> (per-epoch checkpoints), <see cref="CsvLogger"/>,
    /// <see cref="TerminateOnNaN"/>, or your own <see cref="Callback"/>.
    /// </summary>
    public IReadOnlyList<Callback> Callbacks { get; init; } = [];

    /// <summary>
    /// Keras' <c>initial_epoch</c>: the epoch to start numbering from (0-based count of epochs already done), so
    /// Fit runs epochs <c>InitialEpoch + 1</c> to <c>epochs</c>. It skips no data by itself.
    /// </summary>
    public int InitialEpoch { get; init; }

    /// <summary>
    /// Holds out the last fraction of each pass's <i>batches</i> as the validation set (at least one batch, at least
    /// one left to train on). Keras takes the last fraction of the <i>examples</i> before shuffling; Kiln sees only
    /// the batched pipeline, so it takes them after whatever the pipeline does: apply it to a pipeline that does
    /// not shuffle before batching (or the held-out batches change every epoch), or split the examples yourself
    /// with <c>Take</c>/<c>Skip</c> or <see cref="Dataset.Split"/>. Needs a finite dataset of known length, no
    /// separate validation set and no stepsPerEpoch.
    /// </summary>
    public double? ValidationSplit { get; init; }

    /// <summary>
    /// A training checkpoint (<see cref="ModelCheckpoint"/> with <c>saveTrainingState</c>) to resume from: Fit restores
    /// the weights and the optimizer's state (the optimizer passed must be of the saved kind), numbers epochs from the
    /// saved one, and fast-forwards the training data past what was consumed, by reading and discarding it. Given the
    /// same pipeline (built afresh: a shuffle counts its own passes), arguments and seeds, the CPU continues with the
    /// same bits as a run that never stopped.
    /// </summary>
    public string? ResumeFrom { get; init; }

    /// <summary>
    /// Keras' <c>class_weight</c>: each training example's loss and gradient are multiplied by the weight of its class
    /// (classes missing from the map weigh one), and the batch's sum is divided by the batch size, as Keras does. The
    /// class is the label (sparse crossentropy), the first maximum of the target row (categorical, or binary with
    /// several outputs), or the target rounded half to even (binary with one output, so {0: 1, 1: 3} weighs the
    /// positives three times). Training only: validation and Evaluate stay unweighted, as in Keras. Like Keras, Fit
    /// refuses it together with per-example weights (<see cref="Dataset.WithSampleWeights"/>), and refuses it for a
    /// regression. Where Kiln differs: the reported accuracy is not weighted (Keras weights its metrics too), and
    /// weights run on the CPU only. Weights must be finite and non-negative.
    /// </summary>
    public IReadOnlyDictionary<int, float>? ClassWeight { get; init; }
}

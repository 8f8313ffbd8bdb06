namespace Kiln;

/// <summary>
/// Hooks into <see cref="Network.Fit"/>, like Keras' <c>Callback</c>: every method is a no-op unless overridden.
/// Epochs are 1-based, as in the progress line. Set <see cref="FitContext.StopTraining"/> to end training; Fit then
/// returns the history so far. Called on the thread running Fit, one call at a time; an instance may be reused by
/// later fits (each starts with <see cref="OnTrainBegin"/>) but not by two concurrent ones.
/// </summary>
public abstract class Callback
{
    public virtual void OnTrainBegin(FitContext context)
    {
    }

    public virtual void OnEpochBegin(int epoch, FitContext context)
    {
    }

    /// <summary>After every training step; <see cref="FitContext.Loss"/> reads the epoch's running loss on demand.</summary>
    public virtual void OnBatchEnd(int epoch, int step, FitContext context)
    {
    }

    /// <summary>After the epoch's validation; <paramref name="logs"/> is what History records for it.</summary>
    public virtual void OnEpochEnd(EpochMetrics logs, FitContext context)
    {
    }

    /// <summary>Always called once training ends, also after a stop or a cancellation.</summary>
    public virtual void OnTrainEnd(FitContext context)
    {
    }
}

/// <summary>
/// What a <see cref="Callback"/> sees of a running Fit. Belongs to the thread running Fit; not thread-safe.
/// </summary>
public sealed class FitContext
{
    private readonly Func<double> _loss;

    internal FitContext(Network network, Optimizer optimizer, int epochs, History history, TextWriter? output, Func<double> loss)
    {
        (Network, Optimizer, Epochs, History, Output, _loss) = (network, optimizer, epochs, history, output, loss);
    }

    public Network Network { get; }
    public Optimizer Optimizer { get; }
    public int Epochs { get; }
    public History History { get; }

    /// <summary>Where progress goes (null in quiet mode): callbacks print their messages here.</summary>
    public TextWriter? Output { get; }

    /// <summary>Set to end training after the current step (Keras' <c>model.stop_training = True</c>).</summary>
    public bool StopTraining { get; set; }

    /// <summary>
    /// The current epoch's mean training loss so far, NaN or infinite once a step's loss was. On a GPU this waits for
    /// the device, so only read it when needed.
    /// </summary>
    public double Loss => _loss();

    /// <summary>Batches drawn from the iterator shared across epochs (with stepsPerEpoch) since training began, resumes included.</summary>
    internal long Batches { get; set; }

    /// <summary>Complete passes over the training data (without stepsPerEpoch) since training began, resumes included.</summary>
    internal long Passes { get; set; }
}

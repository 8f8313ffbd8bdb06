namespace Kiln;

/// <summary>
/// Keras' <c>TerminateOnNaN</c>: ends training at the first step whose loss is NaN or infinite, and Fit returns
/// the history so far instead of throwing. Reads the loss after every step (a device wait on a GPU).
/// Thread-safety as <see cref="Callback"/>.
/// </summary>
public sealed class TerminateOnNaN : Callback
{
    public override void OnBatchEnd(int epoch, int step, FitContext context)
    {
        if (!double.IsFinite(context.Loss))
        {
            context.Output?.WriteLine($"Batch {step}: Invalid loss, terminating training");
            context.StopTraining = true;
        }
    }
}

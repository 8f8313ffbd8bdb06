namespace Kiln;

public abstract partial class Network
{
    /// <summary>
    /// Fit keeps the parameters it started from and those after each epoch, when every value is finite, and rolls
    /// back to the latest on a NaN or infinite loss: a diverged run leaves the network as it was at its last good
    /// epoch, not full of NaN. One copy per epoch; <see cref="TrainOnBatch"/> keeps none (copy
    /// <see cref="GetParameters"/> yourself and <see cref="SetParameters"/> it back).
    /// </summary>
    private sealed record RestorePoint(float[] Values, string When);

    private RestorePoint? FiniteRestorePoint(string when)
    {
        var values = GetParameters();
        return AllFinite(values) ? new RestorePoint(values, when) : null;
    }

    // Restores the last finite parameters and forgets the optimizer chosen by default (its moments may hold NaN);
    // the exception says what was restored.
    private TrainingException Diverged(string message, Exception? inner, RestorePoint? restore)
    {
        if (restore is null)
        {
            return new TrainingException(message + " No finite weights were kept to restore: the weights are as the failed step left them.", inner);
        }
        SetParameters(restore.Values);
        _optimizer = null;
        return new TrainingException($"{message} The weights were restored to {restore.When}; the optimizer starts afresh unless the same instance is passed again.", inner);
    }

    internal static bool AllFinite(ReadOnlySpan<float> values) => Execution.BatchValidation.FirstNonFinite(values) < 0;
}

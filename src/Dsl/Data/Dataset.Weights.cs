namespace Kiln;

public static partial class Dataset
{
    /// <summary>
    /// Gives every example the loss weight <paramref name="weight"/> returns for it (Keras' <c>sample_weight</c>):
    /// <see cref="Batch"/> carries the weights in <see cref="Kiln.Batch.SampleWeights"/>, and Fit and Evaluate multiply
    /// each example's loss and gradient by its weight, dividing by the batch size as Keras does. A weight must be
    /// finite and non-negative (checked per batch, naming the example). The function runs once per example per pass,
    /// on the enumerating thread.
    /// </summary>
    public static Dataset<Example> WithSampleWeights(this Dataset<Example> source, Func<Example, float> weight)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(weight);
        return source.Map(e => e with { Weight = weight(e) });
    }
}

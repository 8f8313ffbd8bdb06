using Kiln.Execution;

namespace Kiln;

public abstract partial class Network
{
    // The training step's class weights, one per example; reused across steps (training runs one call at a time).
    private float[] _classWeights = [];

    /// <summary>Refuses a <see cref="FitOptions.ClassWeight"/> that cannot apply to this network, before training starts.</summary>
    private void CheckClassWeight(IReadOnlyDictionary<int, float>? classWeight)
    {
        if (classWeight is null)
        {
            return;
        }
        if (!Info.HasAccuracy)
        {
            throw new ArgumentException($"ClassWeight needs a classification loss, but {Info.Name} is a regression ({Info.Loss}); weigh examples with Dataset.WithSampleWeights instead.", "options");
        }
        foreach (var (label, weight) in classWeight)
        {
            if (!(weight >= 0 && float.IsFinite(weight)))
            {
                throw new ArgumentException($"ClassWeight[{label}] is {weight}; weights must be finite and non-negative.", "options");
            }
        }
    }

    /// <summary>
    /// The step's per-example loss weights: the batch's own (<see cref="Batch.SampleWeights"/>), or each example's
    /// class weight; empty when the step is unweighted.
    /// </summary>
    private ReadOnlySpan<float> StepWeights(Batch batch, IReadOnlyDictionary<int, float>? classWeight)
    {
        if (classWeight is null)
        {
            return batch.SampleWeights is { } own ? own.AsSpan(0, batch.Count) : default;
        }
        if (batch.SampleWeights is not null)
        {
            throw new ArgumentException("FitOptions.ClassWeight cannot be combined with per-example weights (Example.Weight, Dataset.WithSampleWeights); Keras refuses class_weight with sample_weight too. Fold the class weights into the sample weights.", "options");
        }
        if (_classWeights.Length < batch.Count)
        {
            _classWeights = new float[batch.Count];
        }
        for (var i = 0; i < batch.Count; i++)
        {
            _classWeights[i] = classWeight.TryGetValue(ClassOf(batch, i), out var weight) ? weight : 1f;
        }
        return _classWeights.AsSpan(0, batch.Count);
    }

    /// <summary>Keras' class of an example for class_weight: the label, the first maximum of the target, or a single target rounded half to even.</summary>
    private int ClassOf(Batch batch, int example)
    {
        if (Info.Loss == Loss.SparseCategoricalCrossentropy)
        {
            return batch.Labels[example];
        }
        var row = batch.Targets.AsSpan(example * batch.TargetSize, batch.TargetSize);
        if (row.Length == 1)
        {
            return (int)MathF.Round(row[0], MidpointRounding.ToEven);
        }
        var best = 0;
        for (var j = 1; j < row.Length; j++)
        {
            if (row[j] > row[best])
            {
                best = j;
            }
        }
        return best;
    }

    /// <summary>An evaluation step, weighted when the batch carries sample weights.</summary>
    private static void EvaluateStep(IExecutor executor, Batch batch)
    {
        if (batch.SampleWeights is { } weights)
        {
            executor.EvaluateStep(batch, weights.AsSpan(0, batch.Count));
        }
        else
        {
            executor.EvaluateStep(batch);
        }
    }
}

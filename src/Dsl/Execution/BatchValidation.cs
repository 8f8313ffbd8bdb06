namespace Kiln.Execution;

/// <summary>Checks what the compiler cannot: sizes, label ranges and finite values, with messages that say where.</summary>
internal static class BatchValidation
{
    public static void Check(Batch batch, NetworkInfo info, Where where)
    {
        if (batch.Count <= 0)
        {
            throw new InvalidDataException($"{where}: the batch is empty.");
        }
        if (batch.FeatureSize != info.InputSize)
        {
            throw new InvalidDataException($"{where}: {info.Name} expects {info.InputSize} features per example {Network.Shape(info.InputShape)}, but the batch has {batch.FeatureSize}.");
        }
        if (info.Loss == Loss.SparseCategoricalCrossentropy)
        {
            for (var i = 0; i < batch.Count; i++)
            {
                if ((uint)batch.Labels[i] >= (uint)info.OutputSize)
                {
                    throw new InvalidDataException($"{where}: example {i} has label {batch.Labels[i]}, outside [0, {info.OutputSize}).");
                }
            }
        }
        else if (batch.Targets is null || batch.TargetSize != info.OutputSize)
        {
            throw new InvalidDataException($"{where}: loss {info.Loss} needs targets of {info.OutputSize} values per example, but the batch has {(batch.Targets is null ? "none" : batch.TargetSize.ToString(System.Globalization.CultureInfo.InvariantCulture))}.");
        }
        CheckFinite(batch.Features.AsSpan(0, batch.Count * batch.FeatureSize), batch.FeatureSize, where);
    }

    public static void CheckFinite(ReadOnlySpan<float> values, int rowSize, Where where)
    {
        // x − x is 0 for finite x and NaN otherwise, so one vectorised pass screens the whole batch.
        if (float.IsFinite(Screen(values)))
        {
            return;
        }
        for (var i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                throw new InvalidDataException($"{where}: example {i / rowSize}, feature {i % rowSize} is {values[i]}; inputs must be finite.");
            }
        }
    }

    private static float Screen(ReadOnlySpan<float> values)
    {
        var acc = System.Numerics.Vector<float>.Zero;
        var i = 0;
        for (; i <= values.Length - System.Numerics.Vector<float>.Count; i += System.Numerics.Vector<float>.Count)
        {
            var v = new System.Numerics.Vector<float>(values[i..]);
            acc += v - v;
        }
        var tail = System.Numerics.Vector.Sum(acc);
        for (; i < values.Length; i++)
        {
            tail += values[i] - values[i];
        }
        return tail;
    }
}

namespace Kiln.Execution;

/// <summary>Checks what the compiler cannot: sizes, label ranges and finite values, with messages that say where.</summary>
internal static class BatchValidation
{
    public static void Check(Batch batch, NetworkInfo info, Where where)
    {
        if (batch is null)
        {
            throw new InvalidDataException($"{where}: the batch is null.");
        }
        if (batch.Count <= 0)
        {
            throw new InvalidDataException($"{where}: the batch is empty (Count is {batch.Count}).");
        }
        if (batch.FeatureSize != info.InputSize)
        {
            throw new InvalidDataException($"{where}: {info.Name} expects {info.InputSize} features per example {Network.Shape(info.InputShape)}, but the batch has {batch.FeatureSize}.");
        }
        var most = MaxBatch(info);
        if (batch.Count > most)
        {
            throw new InvalidDataException($"{where}: a batch of {batch.Count} examples is too large for {info.Name}: its largest layer buffer would exceed {Array.MaxLength} elements; at most {most} examples fit.");
        }
        CheckLength(batch.Features, (long)batch.Count * batch.FeatureSize, "Features", batch.Count, where);
        if (info.Loss == Loss.SparseCategoricalCrossentropy)
        {
            CheckLength(batch.Labels, batch.Count, "Labels", batch.Count, where);
        }
        else if (batch.Targets is not null)
        {
            CheckLength(batch.Targets, (long)batch.Count * batch.TargetSize, "Targets", batch.Count, where);
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
        if (batch.SampleWeights is { } weights)
        {
            CheckLength(weights, batch.Count, "SampleWeights", batch.Count, where);
            CheckWeights(weights.AsSpan(0, batch.Count), "sample weight", where);
        }
    }

    /// <summary>Loss weights must be finite and non-negative (a negative one would climb the loss).</summary>
    public static void CheckWeights(ReadOnlySpan<float> weights, string what, Where where)
    {
        for (var i = 0; i < weights.Length; i++)
        {
            if (!(weights[i] >= 0 && float.IsFinite(weights[i])))
            {
                throw new InvalidDataException($"{where}: example {i} has {what} {weights[i]}; weights must be finite and non-negative.");
            }
        }
    }

    /// <summary>The most examples whose largest per-batch buffer (input, any layer's output, or output) fits one array.</summary>
    public static int MaxBatch(NetworkInfo info)
    {
        // Indexed loops: this runs for every batch, and an interface enumerator would allocate.
        long widest = Math.Max(info.InputSize, info.OutputSize);
        for (var i = 0; i < info.Layers.Count; i++)
        {
            var shape = info.Layers[i].OutputShape;
            var size = 1L;
            for (var d = 0; d < shape.Count; d++)
            {
                size *= shape[d];
            }
            widest = Math.Max(widest, size);
        }
        return (int)Math.Min(int.MaxValue, Array.MaxLength / Math.Max(widest, 1));
    }

    // A hand-built Batch can say one thing in Count and hold another in its arrays.
    private static void CheckLength([System.Diagnostics.CodeAnalysis.NotNull] Array? values, long needed, string name, int count, Where where)
    {
        if (values is null)
        {
            throw new InvalidDataException($"{where}: the batch's {name} is null.");
        }
        if (values.Length < needed)
        {
            throw new InvalidDataException($"{where}: the batch says Count = {count}, which needs {needed} elements in {name}, but it holds {values.Length}.");
        }
    }

    public static void CheckFinite(ReadOnlySpan<float> values, int rowSize, Where where)
    {
        if (FirstNonFinite(values) is var i and >= 0)
        {
            throw new InvalidDataException($"{where}: example {i / rowSize}, feature {i % rowSize} is {values[i]}; inputs must be finite.");
        }
    }

    /// <summary>The index of the first NaN or infinity, or −1.</summary>
    public static int FirstNonFinite(ReadOnlySpan<float> values)
    {
        // x − x is 0 for finite x and NaN otherwise, so one vectorised pass screens the whole span.
        if (float.IsFinite(Screen(values)))
        {
            return -1;
        }
        for (var i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                return i;
            }
        }
        return -1;
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

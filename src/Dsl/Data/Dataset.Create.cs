namespace Kiln;

/// <summary>Creates datasets and adds the operators that apply to examples only.</summary>
public static partial class Dataset
{
    /// <summary>The items of <paramref name="items"/>, read afresh on each pass (the list is not copied).</summary>
    public static Dataset<T> From<T>(IReadOnlyList<T> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        return new ListDataset<T>(items);
    }

    /// <summary>Examples for a sparse-crossentropy network: one integer class per row of features.</summary>
    public static Dataset<Example> FromArrays(float[][] features, int[] labels)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        CheckLengths(features, labels.Length, nameof(labels));
        var examples = new Example[features.Length];
        for (var i = 0; i < examples.Length; i++)
        {
            examples[i] = new Example(features[i], labels[i]);
        }
        return From(examples);
    }

    /// <summary>Examples for a categorical-crossentropy or regression network: one target vector per row of features.</summary>
    public static Dataset<Example> FromArrays(float[][] features, float[][] targets)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(targets);
        CheckLengths(features, targets.Length, nameof(targets));
        var examples = new Example[features.Length];
        for (var i = 0; i < examples.Length; i++)
        {
            examples[i] = new Example(features[i], Target: targets[i] ?? throw new ArgumentException($"targets[{i}] is null.", nameof(targets)));
        }
        return From(examples);
    }

    private static void CheckLengths(float[][] features, int length, string name)
    {
        if (length != features.Length)
        {
            throw new ArgumentException($"There are {features.Length} rows of features but {length} {name}; they must pair up one to one.", name);
        }
        for (var i = 0; i < features.Length; i++)
        {
            if (features[i] is null)
            {
                throw new ArgumentException($"features[{i}] is null.", nameof(features));
            }
        }
    }
}

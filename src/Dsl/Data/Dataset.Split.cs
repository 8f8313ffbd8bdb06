namespace Kiln;

public static partial class Dataset
{
    /// <summary>
    /// Splits a finite dataset into train and test sets, stratified by <see cref="Example.Label"/>: the test set
    /// holds ⌈N·<paramref name="testFraction"/>⌉ examples, each class within one of its exact share. Both sets come
    /// out shuffled; the same seed gives the same split.
    /// </summary>
    public static (Dataset<Example> Train, Dataset<Example> Test) Split(this Dataset<Example> source, double testFraction, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (!(testFraction is > 0 and < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(testFraction), testFraction, "The test fraction must lie strictly between 0 and 1.");
        }
        if (source.IsInfinite)
        {
            throw new ArgumentException("Cannot split an infinite dataset; split before Repeat().", nameof(source));
        }

        // Compact: examples kept as bytes stay bytes in both halves (the lists expand them for the user).
        var all = new List<Example>();
        foreach (var example in source.Read(compact: true))
        {
            all.Add(example);
        }
        var classes = all.Select((e, i) => (e.Label, Index: i))
            .GroupBy(x => x.Label, x => x.Index)
            .OrderBy(g => g.Key)
            .Select(g => g.ToArray())
            .ToArray();

        // Largest remainder: every class gets the floor of its share, the leftover places go to the largest fractions.
        // The small tolerance keeps 150 × 0.2 at 30 rather than ceiling a rounding error up to 31.
        var testTotal = (int)Math.Ceiling(all.Count * testFraction - 1e-9);
        var shares = classes.Select(c => c.Length * testFraction).ToArray();
        var quotas = shares.Select(s => (int)Math.Floor(s + 1e-9)).ToArray();
        foreach (var c in Enumerable.Range(0, classes.Length).OrderByDescending(c => shares[c] - quotas[c]).Take(testTotal - quotas.Sum()))
        {
            quotas[c]++;
        }

        var random = new SplitMix64(SplitMix64.Mix(seed, 0));
        var train = new List<Example>(all.Count - testTotal);
        var test = new List<Example>(testTotal);
        for (var c = 0; c < classes.Length; c++)
        {
            random.Shuffle(classes[c].AsSpan());
            test.AddRange(classes[c][..quotas[c]].Select(i => all[i]));
            train.AddRange(classes[c][quotas[c]..].Select(i => all[i]));
        }
        random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(train));
        random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(test));
        return (From(train), From(test));
    }
}

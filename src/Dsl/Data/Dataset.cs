using System.Collections;

namespace Kiln;

/// <summary>
/// A lazy, re-enumerable sequence of examples in the manner of <c>tf.data</c>: each operator returns a new
/// dataset and does its work only when enumerated, so every enumeration is one pass (one epoch).
/// </summary>
public abstract class Dataset<T> : IEnumerable<T>
{
    /// <summary>True when enumeration never ends (after <see cref="Repeat"/> without a count).</summary>
    public abstract bool IsInfinite { get; }

    /// <summary>The number of elements one pass yields, when known; null when unknown or infinite.</summary>
    public abstract long? Count { get; }

    public abstract IEnumerator<T> GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>
    /// One pass, as Kiln's own operators read it: with <paramref name="compact"/>, examples may keep their features as
    /// bytes (<see cref="Example.Bytes"/>) until <see cref="Dataset.Batch"/> writes them into a batch; without, every
    /// example has float features, as <see cref="GetEnumerator"/> gives them to the user. A dataset defined outside
    /// Kiln only has the latter.
    /// </summary>
    internal virtual IEnumerator<T> Enumerate(bool compact) => GetEnumerator();

    /// <summary><see cref="Enumerate"/> for a foreach.</summary>
    internal Pass<T> Read(bool compact) => new(this, compact);

    /// <summary>
    /// Shuffles through a buffer of <paramref name="bufferSize"/> elements (a buffer at least as large as the
    /// dataset gives a uniform permutation; 1 keeps the order). Each enumeration reshuffles with
    /// <paramref name="seed"/> mixed with the enumeration's number, so epochs differ and runs repeat.
    /// </summary>
    public Dataset<T> Shuffle(int bufferSize, int seed = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bufferSize, 1);
        return new ShuffleDataset<T>(this, bufferSize, seed);
    }

    /// <summary>Repeats the dataset <paramref name="count"/> times, or forever when null.</summary>
    public Dataset<T> Repeat(int? count = null)
    {
        if (count is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, "The repeat count cannot be negative.");
        }
        return new RepeatDataset<T>(this, count);
    }

    public Dataset<TResult> Map<TResult>(Func<T, TResult> selector)
    {
        ArgumentNullException.ThrowIfNull(selector);
        return new MapDataset<T, TResult>(this, selector);
    }

    /// <summary>This dataset's elements followed by <paramref name="other"/>'s.</summary>
    public Dataset<T> Concatenate(Dataset<T> other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return new ConcatenateDataset<T>(this, other);
    }

    /// <summary>The first <paramref name="count"/> elements of each pass (fewer if the pass is shorter).</summary>
    public Dataset<T> Take(long count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        return new TakeDataset<T>(this, count);
    }

    /// <summary>Each pass without its first <paramref name="count"/> elements.</summary>
    public Dataset<T> Skip(long count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        return new SkipDataset<T>(this, count);
    }

    /// <summary>
    /// Keeps the elements of the first complete pass in memory and replays them afterwards; an incomplete pass
    /// caches nothing. Place it before <see cref="Shuffle"/> to keep reshuffling each epoch.
    /// </summary>
    public Dataset<T> Cache() => new CacheDataset<T>(this);

    /// <summary>
    /// Produces elements on a background thread, up to <paramref name="bufferSize"/> ahead of the consumer.
    /// The producer's exceptions are rethrown to the consumer; disposing the enumerator stops the producer.
    /// </summary>
    public Dataset<T> Prefetch(int bufferSize = 2)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bufferSize, 1);
        return new PrefetchDataset<T>(this, bufferSize);
    }
}

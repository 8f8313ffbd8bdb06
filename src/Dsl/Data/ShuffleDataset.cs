namespace Kiln;

/// <summary>
/// tf.data's buffered shuffle: fill a buffer, then repeatedly emit a random buffered element and put the next
/// incoming one in its place; at the end, drain the buffer in random order.
/// </summary>
internal sealed class ShuffleDataset<T>(Dataset<T> source, int bufferSize, int seed) : Dataset<T>
{
    private long _passes;

    public override bool IsInfinite => source.IsInfinite;

    public override long? Count => source.Count;

    public override IEnumerator<T> GetEnumerator() => Enumerate(compact: false);

    internal override IEnumerator<T> Enumerate(bool compact) => Shuffle(Interlocked.Increment(ref _passes) - 1, compact);

    private IEnumerator<T> Shuffle(long pass, bool compact)
    {
        var random = new SplitMix64(SplitMix64.Mix(seed, pass));
        // Grows as elements arrive, so a generous bufferSize over a small dataset costs nothing. It holds the elements
        // compact (examples as bytes) and expands each on its way out, if the consumer needs floats.
        var buffer = new List<T>(Math.Min(bufferSize, 1024));
        foreach (var item in source.Read(compact: true))
        {
            if (buffer.Count < bufferSize)
            {
                buffer.Add(item);
                continue;
            }
            var j = random.NextInt(buffer.Count);
            yield return compact ? buffer[j] : Pass<T>.Expand(buffer[j]);
            buffer[j] = item;
        }
        while (buffer.Count > 0)
        {
            var j = random.NextInt(buffer.Count);
            yield return compact ? buffer[j] : Pass<T>.Expand(buffer[j]);
            buffer[j] = buffer[^1];
            buffer.RemoveAt(buffer.Count - 1);
        }
    }
}

namespace Kiln;

internal sealed class TakeDataset<T>(Dataset<T> source, long count) : Dataset<T>
{
    public override bool IsInfinite => false;

    public override long? Count => source.IsInfinite ? count : source.Count is { } n ? Math.Min(n, count) : null;

    public override IEnumerator<T> GetEnumerator() => Enumerate(compact: false);

    internal override IEnumerator<T> Enumerate(bool compact)
    {
        if (count == 0)
        {
            yield break;
        }
        var taken = 0L;
        foreach (var item in source.Read(compact))
        {
            yield return item;
            // Stop before asking the source for one more, which may be expensive or block.
            if (++taken == count)
            {
                yield break;
            }
        }
    }
}

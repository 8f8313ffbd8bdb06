namespace Kiln;

internal sealed class SkipDataset<T>(Dataset<T> source, long count) : Dataset<T>
{
    public override bool IsInfinite => source.IsInfinite;

    public override long? Count => source.Count is { } n ? Math.Max(0, n - count) : null;

    public override IEnumerator<T> GetEnumerator() => Enumerate(compact: false);

    internal override IEnumerator<T> Enumerate(bool compact)
    {
        var seen = 0L;
        foreach (var item in source.Read(compact))
        {
            if (seen++ >= count)
            {
                yield return item;
            }
        }
    }
}

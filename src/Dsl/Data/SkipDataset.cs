namespace Kiln;

internal sealed class SkipDataset<T>(Dataset<T> source, long count) : Dataset<T>
{
    public override bool IsInfinite => source.IsInfinite;

    public override long? Count => source.Count is { } n ? Math.Max(0, n - count) : null;

    public override IEnumerator<T> GetEnumerator()
    {
        var seen = 0L;
        foreach (var item in source)
        {
            if (seen++ >= count)
            {
                yield return item;
            }
        }
    }
}

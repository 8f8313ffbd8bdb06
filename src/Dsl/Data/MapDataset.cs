namespace Kiln;

internal sealed class MapDataset<TSource, TResult>(Dataset<TSource> source, Func<TSource, TResult> selector) : Dataset<TResult>
{
    public override bool IsInfinite => source.IsInfinite;

    public override long? Count => source.Count;

    public override IEnumerator<TResult> GetEnumerator()
    {
        foreach (var item in source)
        {
            yield return selector(item);
        }
    }
}

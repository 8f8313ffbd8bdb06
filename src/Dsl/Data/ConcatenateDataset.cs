namespace Kiln;

internal sealed class ConcatenateDataset<T>(Dataset<T> first, Dataset<T> second) : Dataset<T>
{
    public override bool IsInfinite => first.IsInfinite || second.IsInfinite;

    public override long? Count => first.Count + second.Count;

    public override IEnumerator<T> GetEnumerator()
    {
        foreach (var item in first)
        {
            yield return item;
        }
        foreach (var item in second)
        {
            yield return item;
        }
    }
}

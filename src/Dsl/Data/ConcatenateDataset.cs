namespace Kiln;

internal sealed class ConcatenateDataset<T>(Dataset<T> first, Dataset<T> second) : Dataset<T>
{
    public override bool IsInfinite => first.IsInfinite || second.IsInfinite;

    public override long? Count => first.Count + second.Count;

    public override IEnumerator<T> GetEnumerator() => Enumerate(compact: false);

    internal override IEnumerator<T> Enumerate(bool compact)
    {
        foreach (var item in first.Read(compact))
        {
            yield return item;
        }
        foreach (var item in second.Read(compact))
        {
            yield return item;
        }
    }
}

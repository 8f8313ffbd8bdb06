namespace Kiln;

/// <summary>The elements of a list, read afresh on each pass.</summary>
internal sealed class ListDataset<T>(IReadOnlyList<T> items) : Dataset<T>
{
    public override bool IsInfinite => false;

    public override long? Count => items.Count;

    public override IEnumerator<T> GetEnumerator() => Enumerate(compact: false);

    internal override IEnumerator<T> Enumerate(bool compact)
    {
        for (var i = 0; i < items.Count; i++)
        {
            yield return compact ? items[i] : Pass<T>.Expand(items[i]);
        }
    }
}

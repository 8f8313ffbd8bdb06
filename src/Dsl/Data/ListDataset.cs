namespace Kiln;

/// <summary>The elements of a list, read afresh on each pass.</summary>
internal sealed class ListDataset<T>(IReadOnlyList<T> items) : Dataset<T>
{
    public override bool IsInfinite => false;

    public override long? Count => items.Count;

    public override IEnumerator<T> GetEnumerator()
    {
        for (var i = 0; i < items.Count; i++)
        {
            yield return items[i];
        }
    }
}

namespace Kiln;

/// <summary>
/// Holds the elements of the first complete pass once, as the source keeps them (examples read from bytes stay
/// bytes), and replays them; examples get their floats only on their way to a consumer that needs them.
/// </summary>
internal sealed class CacheDataset<T>(Dataset<T> source) : Dataset<T>
{
    private List<T>? _cached;

    public override bool IsInfinite => source.IsInfinite;

    public override long? Count => _cached?.Count ?? source.Count;

    public override IEnumerator<T> GetEnumerator() => Enumerate(compact: false);

    internal override IEnumerator<T> Enumerate(bool compact) =>
        Volatile.Read(ref _cached) is { } cached ? Replay(cached, compact) : Fill(compact);

    private static IEnumerator<T> Replay(List<T> cached, bool compact)
    {
        for (var i = 0; i < cached.Count; i++)
        {
            yield return compact ? cached[i] : Pass<T>.Expand(cached[i]);
        }
    }

    private IEnumerator<T> Fill(bool compact)
    {
        // Each filling pass keeps its own list and publishes it only when complete, so a pass abandoned early
        // (or one running concurrently on another thread) never leaves a partial cache behind. The list itself is
        // published, not copied, so the cache never holds its elements twice.
        var items = new List<T>();
        foreach (var item in source.Read(compact: true))
        {
            if (item is Batch batch)
            {
                // Kept: no consumer may give it back to be refilled.
                batch.Pool = null;
            }
            items.Add(item);
            yield return compact ? item : Pass<T>.Expand(item);
        }
        Interlocked.CompareExchange(ref _cached, items, null);
    }
}

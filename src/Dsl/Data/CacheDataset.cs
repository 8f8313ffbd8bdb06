namespace Kiln;

internal sealed class CacheDataset<T>(Dataset<T> source) : Dataset<T>
{
    private T[]? _cached;

    public override bool IsInfinite => source.IsInfinite;

    public override long? Count => _cached?.Length ?? source.Count;

    public override IEnumerator<T> GetEnumerator() => Volatile.Read(ref _cached) is { } cached ? Replay(cached) : Fill();

    private static IEnumerator<T> Replay(T[] cached)
    {
        foreach (var item in cached)
        {
            yield return item;
        }
    }

    private IEnumerator<T> Fill()
    {
        // Each filling pass keeps its own list and publishes it only when complete, so a pass abandoned early
        // (or one running concurrently on another thread) never leaves a partial cache behind.
        var items = new List<T>();
        foreach (var item in source)
        {
            if (item is Batch batch)
            {
                // Kept: no consumer may give it back to be refilled.
                batch.Pool = null;
            }
            items.Add(item);
            yield return item;
        }
        Interlocked.CompareExchange(ref _cached, [.. items], null);
    }
}

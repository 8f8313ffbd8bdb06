namespace Kiln;

/// <summary>
/// Batches one <see cref="Dataset.Batch"/> enumeration made and its consumer has finished with, for that enumeration
/// to fill again instead of allocating. Fit and Evaluate give batches back after their step (the executors copy what
/// they need); a batch nobody gives back is simply collected. A closed pool (its enumeration ended) takes nothing,
/// so a batch can never be refilled after the pass that made it. Thread-safe: Prefetch fills on another thread.
/// </summary>
internal sealed class BatchPool
{
    // A few: Prefetch holds its buffer plus the batch being trained on.
    private const int Capacity = 8;
    private readonly Stack<Batch> _free = new(Capacity);
    private bool _closed;

    public Batch? Take()
    {
        lock (_free)
        {
            return _free.TryPop(out var batch) ? batch : null;
        }
    }

    public void Return(Batch batch)
    {
        lock (_free)
        {
            if (!_closed && _free.Count < Capacity)
            {
                _free.Push(batch);
            }
        }
    }

    public void Close()
    {
        lock (_free)
        {
            _closed = true;
            _free.Clear();
        }
    }

    /// <summary>Gives <paramref name="batch"/> back to the enumeration that made it, if any; the caller must not touch it afterwards.</summary>
    public static void Recycle(Batch batch)
    {
        var pool = batch.Pool;
        batch.Pool = null;
        pool?.Return(batch);
    }
}

namespace Kiln.Tests.Data;

/// <summary>
/// Yields 0, 1, 2, … (forever, or up to a count) and records how it is used: passes started, enumerators
/// disposed, and the thread that enumerated it. Optionally throws before yielding a given element.
/// </summary>
public sealed class ProbeDataset(int? count, int? throwAt = null) : Dataset<int>
{
    private int _passes;
    private int _disposals;

    public int Passes => Volatile.Read(ref _passes);

    public int Disposals => Volatile.Read(ref _disposals);

    public Thread? LastThread { get; private set; }

    public override bool IsInfinite => count is null;

    public override long? Count => count;

    public override IEnumerator<int> GetEnumerator()
    {
        Interlocked.Increment(ref _passes);
        LastThread = Thread.CurrentThread;
        try
        {
            for (var i = 0; count is null || i < count; i++)
            {
                if (i == throwAt)
                {
                    throw new InvalidOperationException($"probe failed at {i}");
                }
                yield return i;
            }
        }
        finally
        {
            Interlocked.Increment(ref _disposals);
        }
    }
}

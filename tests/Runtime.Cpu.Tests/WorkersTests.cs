namespace Kiln.Runtime.Cpu.Tests;

/// <summary>The pool hands out parts dynamically: each runs exactly once, on a thread with a valid scratch slot.</summary>
[Collection(nameof(ThreadingTests))]
public unsafe class WorkersTests
{
    [Fact]
    public void ManyParts_EachRunOnce_OnAThreadSlot()
    {
        const int parts = 37;
        var runs = new int[parts];
        var threads = new int[parts];
        fixed (int* pr = runs, pt = threads)
        {
            var state = new Record(pr, pt);
            Workers.Run(&RecordPart, &state, parts);
        }
        Assert.All(runs, count => Assert.Equal(1, count));
        Assert.All(threads, thread => Assert.InRange(thread, 0, Workers.Count - 1));
    }

    [Fact]
    public void FailingPart_IsRethrownAfterTheOthersFinish_AndThePoolStaysUsable()
    {
        const int parts = 16;
        var runs = new int[parts];
        InvalidOperationException? failure = null;
        fixed (int* pr = runs)
        {
            var state = new Record(pr, null);
            try
            {
                Workers.Run(&FailAtThree, &state, parts);
            }
            catch (InvalidOperationException e)
            {
                failure = e;
            }
        }
        Assert.Equal("part 3", failure?.Message);
        // Parts after the failure may be skipped; none may still be running or run twice.
        Assert.All(runs, count => Assert.InRange(count, 0, 1));
        Assert.Equal(1, runs[3]);
        ManyParts_EachRunOnce_OnAThreadSlot();
    }

    [Fact]
    public void PartsFor_SplitsFinerThanThreads_ThreadsForDoesNot()
    {
        Assert.Equal(1, Workers.PartsFor(10, 100));
        Assert.Equal(Workers.Count, Workers.ThreadsFor(1L << 40, 1));
        Assert.True(Workers.Count == 1 || Workers.PartsFor(1L << 40, 1) > Workers.Count, "kernels without per-part setup get several parts per thread");
    }

    private static void RecordPart(void* state, int part, int parts)
    {
        var record = (Record*)state;
        Interlocked.Increment(ref record->Runs[part]);
        record->Threads[part] = Workers.Thread;
        Thread.SpinWait(2000);
    }

    private static void FailAtThree(void* state, int part, int parts)
    {
        Interlocked.Increment(ref ((Record*)state)->Runs[part]);
        Thread.SpinWait(2000);
        if (part == 3)
        {
            throw new InvalidOperationException("part 3");
        }
    }

    private readonly struct Record(int* runs, int* threads)
    {
        public readonly int* Runs = runs, Threads = threads;
    }
}

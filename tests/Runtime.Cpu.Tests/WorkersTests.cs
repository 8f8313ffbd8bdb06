namespace Kiln.Runtime.Cpu.Tests;

/// <summary>
/// The pool hands out parts dynamically: each runs exactly once, no two parts running at the same time share a
/// thread's scratch slot, and a failure is rethrown only once every part that started has finished.
/// </summary>
[Collection(nameof(ThreadingTests))]
public unsafe class WorkersTests
{
    [Fact]
    public void ManyParts_EachRunOnce_NeverTwoAtOnceOnASlot()
    {
        const int parts = 37;
        var runs = new int[parts];
        var busy = new int[Workers.Count];
        var clashes = new int[1];
        fixed (int* pr = runs, pb = busy, pc = clashes)
        {
            var state = new Record(pr, pb, pc, null);
            Workers.Run(&RecordPart, &state, parts);
        }
        Assert.All(runs, count => Assert.Equal(1, count));
        Assert.Equal(0, clashes[0]);
    }

    [Fact]
    public void FailingPart_IsRethrownAfterTheOthersFinish_AndThePoolStaysUsable()
    {
        const int parts = 16;
        var runs = new int[parts];
        var finished = new int[parts];
        InvalidOperationException? failure = null;
        fixed (int* pr = runs, pf = finished)
        {
            var state = new Record(pr, null, null, pf);
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
        // Parts after the failure may be skipped; every part that started ran once and had finished before Run returned.
        Assert.All(runs, count => Assert.InRange(count, 0, 1));
        Assert.Equal(1, runs[3]);
        for (var part = 0; part < parts; part++)
        {
            Assert.Equal(part == 3 ? 0 : runs[part], finished[part]);
        }
        ManyParts_EachRunOnce_NeverTwoAtOnceOnASlot();
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
        var slot = Workers.Thread;
        if (Interlocked.Exchange(ref record->Busy[slot], 1) != 0)
        {
            Interlocked.Increment(ref record->Clashes[0]);
        }
        // Long enough (tens of microseconds) that a sleeping helper wakes and takes parts while the caller still runs.
        Thread.SpinWait(20000);
        Volatile.Write(ref record->Busy[slot], 0);
    }

    private static void FailAtThree(void* state, int part, int parts)
    {
        var record = (Record*)state;
        Interlocked.Increment(ref record->Runs[part]);
        Thread.SpinWait(20000);
        if (part == 3)
        {
            throw new InvalidOperationException("part 3");
        }
        Volatile.Write(ref record->Finished[part], 1);
    }

    private readonly struct Record(int* runs, int* busy, int* clashes, int* finished)
    {
        public readonly int* Runs = runs, Busy = busy, Clashes = clashes, Finished = finished;
    }
}

using System.Runtime.ExceptionServices;

namespace Kiln.Runtime.Cpu;

/// <summary>
/// A small persistent pool that runs the parts of one kernel call on all cores: one background thread per extra core,
/// started once, woken per call. Nothing is allocated per call (the job is a function pointer and a pointer to the
/// caller's state, which lives on the caller's stack until every part has finished).
/// </summary>
/// <remarks>
/// <para>Threads take parts from a shared counter until none is left, so a core that is slowed down (a shared or
/// virtual machine taking it away for a while, a busy sibling hyperthread) runs fewer of them instead of holding up the
/// call: kernels whose parts cost nothing to set up ask for several per thread (<see cref="PartsFor"/>).</para>
/// <para>Determinism is the callers' job and is easy to keep: each part must write a disjoint set of outputs and compute
/// each of them exactly as a single-threaded run would, so which thread runs a part, or how many parts there are, never
/// changes a bit. A part that needs scratch space uses the slot of the thread running it (<see cref="Thread"/>). A call
/// made while the pool is busy (another network on another thread, or a nested call) runs all its parts on the calling
/// thread.</para>
/// </remarks>
internal static unsafe class Workers
{
    /// <summary>Threads that take part in a call, the caller included.</summary>
    public static readonly int Count = Math.Clamp(Environment.ProcessorCount, 1, 8);

    // Parts per thread for kernels without per-part setup: enough that the other threads absorb one slowed-down thread.
    private const int PartsPerThread = 4;

    // How long an idle worker keeps polling for the next call before it blocks: kernel calls within a training step or
    // a prediction follow each other within microseconds, and waking a blocked thread costs tens of them.
    private static readonly long s_spinTicks = System.Diagnostics.Stopwatch.Frequency / 5000;

    private static readonly object s_gate = new();
    private static readonly Helper[] s_helpers = CreateThreads();
    private static delegate*<void*, int, int, void> s_body;
    private static void* s_state;
    private static int s_parts;
    private static int s_next;
    private static int s_pending;
    private static long s_generation;
    private static ExceptionDispatchInfo? s_failure;

    [ThreadStatic] private static bool t_serial;
    [ThreadStatic] private static int t_thread;

    /// <summary>While true on this thread, its calls run every part on the calling thread (tests compare both ways).</summary>
    public static bool Serial
    {
        get => t_serial;
        set => t_serial = value;
    }

    /// <summary>The running thread's index in [0, <see cref="Count"/>): its slot in a kernel's per-thread scratch.</summary>
    public static int Thread => t_thread;

    /// <summary>Parts worth splitting <paramref name="units"/> units of work into, given a minimum per part: several per thread.</summary>
    public static int PartsFor(long units, long minimumPerPart) => Split(units, minimumPerPart, Count * PartsPerThread);

    /// <summary>At most one part per thread, for kernels whose every part repeats some setup (packing a shared operand).</summary>
    public static int ThreadsFor(long units, long minimumPerPart) => Split(units, minimumPerPart, Count);

    private static int Split(long units, long minimumPerPart, int most) =>
        t_serial ? 1 : (int)Math.Clamp(units / Math.Max(minimumPerPart, 1), 1, most);

    /// <summary>Runs <c>body(state, part, parts)</c> for every part in [0, <paramref name="parts"/>) and returns when all are done.</summary>
    public static void Run(delegate*<void*, int, int, void> body, void* state, int parts)
    {
        if (parts <= 1 || Count == 1 || t_serial || Monitor.IsEntered(s_gate) || !Monitor.TryEnter(s_gate))
        {
            for (var part = 0; part < parts; part++)
            {
                body(state, part, parts);
            }
            return;
        }
        try
        {
            // Every helper sees the new generation, so every helper reports back, with or without a part to run.
            var helpers = s_helpers.Length;
            s_body = body;
            s_state = state;
            s_parts = parts;
            s_failure = null;
            // The caller runs part 0 itself, so a kernel with one part per thread keeps its parts on the same cores.
            Volatile.Write(ref s_next, 1);
            Volatile.Write(ref s_pending, helpers);
            Interlocked.Increment(ref s_generation);
            for (var t = 0; t < helpers; t++)
            {
                // Either the helper sees the new generation before it sleeps, or we see that it sleeps and wake it.
                if (Interlocked.Exchange(ref s_helpers[t].Sleeping, 0) == 1)
                {
                    s_helpers[t].Wake.Release();
                }
            }
            RunParts(0);
            // The helpers may still be running parts that read the caller's state: wait for them even after a failure.
            var spin = new SpinWait();
            while (Volatile.Read(ref s_pending) != 0)
            {
                spin.SpinOnce(sleep1Threshold: -1);
            }
            if (s_failure is { } failure)
            {
                s_failure = null;
                failure.Throw();
            }
        }
        finally
        {
            Monitor.Exit(s_gate);
        }
    }

    // Runs `part`, then takes parts until none is left; a failure stops the others from taking more and is rethrown by
    // the caller.
    private static void RunParts(int part)
    {
        try
        {
            for (; part < s_parts; part = Interlocked.Increment(ref s_next) - 1)
            {
                s_body(s_state, part, s_parts);
            }
        }
        catch (Exception e)
        {
            s_failure = ExceptionDispatchInfo.Capture(e);
            Volatile.Write(ref s_next, int.MaxValue / 2);
        }
    }

    private static Helper[] CreateThreads()
    {
        var helpers = new Helper[Count - 1];
        for (var t = 0; t < helpers.Length; t++)
        {
            helpers[t] = new Helper(t + 1);
            var thread = new Thread(Loop) { IsBackground = true, Name = $"Kiln CPU worker {t + 1}" };
            thread.Start(helpers[t]);
        }
        return helpers;
    }

    private static void Loop(object? state)
    {
        var helper = (Helper)state!;
        t_thread = helper.Thread;
        var seen = 0L;
        while (true)
        {
            seen = WaitForCall(helper, seen);
            RunParts(Interlocked.Increment(ref s_next) - 1);
            Interlocked.Decrement(ref s_pending);
        }
    }

    // Polls for a new generation for a short while, then blocks until Run wakes this helper. Returns the generation.
    private static long WaitForCall(Helper helper, long seen)
    {
        var deadline = System.Diagnostics.Stopwatch.GetTimestamp() + s_spinTicks;
        while (true)
        {
            var generation = Volatile.Read(ref s_generation);
            if (generation != seen)
            {
                return generation;
            }
            if (System.Diagnostics.Stopwatch.GetTimestamp() < deadline)
            {
                System.Threading.Thread.SpinWait(20);
                continue;
            }
            Interlocked.Exchange(ref helper.Sleeping, 1);
            if (Volatile.Read(ref s_generation) == seen)
            {
                helper.Wake.Wait();
            }
            // Woken, or the call came in between: either way poll again (a stale wake-up just loops once more).
            Interlocked.Exchange(ref helper.Sleeping, 0);
            deadline = System.Diagnostics.Stopwatch.GetTimestamp() + s_spinTicks;
        }
    }

    private sealed class Helper(int thread)
    {
        public readonly int Thread = thread;
        public readonly SemaphoreSlim Wake = new(0);
        public int Sleeping;
    }
}

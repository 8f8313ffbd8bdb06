using System.Runtime.ExceptionServices;

namespace Kiln.Runtime.Cpu;

/// <summary>
/// A small persistent pool that runs the parts of one kernel call on all cores: one background thread per extra core,
/// started once, woken per call. Nothing is allocated per call (the job is a function pointer and a pointer to the
/// caller's state, which lives on the caller's stack until every part has finished).
/// </summary>
/// <remarks>
/// Determinism is the callers' job and is easy to keep: each part must write a disjoint set of outputs and compute each
/// of them exactly as a single-threaded run would, so which thread runs a part, or whether all run on the caller, never
/// changes a bit. A call made while the pool is busy (another network on another thread, or a nested call) runs all its
/// parts on the calling thread.
/// </remarks>
internal static unsafe class Workers
{
    /// <summary>Threads that take part in a call, the caller included.</summary>
    public static readonly int Count = Math.Clamp(Environment.ProcessorCount, 1, 8);

    // How long an idle worker keeps polling for the next call before it blocks: kernel calls within a training step or
    // a prediction follow each other within microseconds, and waking a blocked thread costs tens of them.
    private static readonly long s_spinTicks = System.Diagnostics.Stopwatch.Frequency / 5000;

    private static readonly object s_gate = new();
    private static readonly Helper[] s_helpers = CreateThreads();
    private static delegate*<void*, int, int, void> s_body;
    private static void* s_state;
    private static int s_parts;
    private static int s_pending;
    private static long s_generation;
    private static ExceptionDispatchInfo? s_failure;

    [ThreadStatic] private static bool t_serial;

    /// <summary>While true on this thread, its calls run every part on the calling thread (tests compare both ways).</summary>
    public static bool Serial
    {
        get => t_serial;
        set => t_serial = value;
    }

    /// <summary>Parts worth splitting <paramref name="units"/> units of work into, given a minimum per part.</summary>
    public static int PartsFor(long units, long minimumPerPart) =>
        t_serial ? 1 : (int)Math.Clamp(units / Math.Max(minimumPerPart, 1), 1, Count);

    /// <summary>
    /// Runs <c>body(state, part, parts)</c> for every part in [0, <paramref name="parts"/>) and returns when all are done.
    /// Part p runs on thread p mod <see cref="Count"/> (the caller is thread 0).
    /// </summary>
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
            for (var part = 0; part < parts; part += Count)
            {
                body(state, part, parts);
            }
            var spin = new SpinWait();
            while (Volatile.Read(ref s_pending) != 0)
            {
                spin.SpinOnce(sleep1Threshold: -1);
            }
            s_failure?.Throw();
        }
        finally
        {
            Monitor.Exit(s_gate);
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
        var seen = 0L;
        while (true)
        {
            seen = WaitForCall(helper, seen);
            try
            {
                for (var part = helper.Thread; part < s_parts; part += Count)
                {
                    s_body(s_state, part, s_parts);
                }
            }
            catch (Exception e)
            {
                s_failure = ExceptionDispatchInfo.Capture(e);
            }
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
                Thread.SpinWait(20);
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

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

    private static readonly object s_gate = new();
    private static readonly SemaphoreSlim[] s_wake = CreateThreads();
    private static delegate*<void*, int, int, void> s_body;
    private static void* s_state;
    private static int s_parts;
    private static int s_pending;
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
            var helpers = Math.Min(parts, Count) - 1;
            s_body = body;
            s_state = state;
            s_parts = parts;
            s_failure = null;
            Volatile.Write(ref s_pending, helpers);
            for (var t = 0; t < helpers; t++)
            {
                s_wake[t].Release();
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

    private static SemaphoreSlim[] CreateThreads()
    {
        var wake = new SemaphoreSlim[Count - 1];
        for (var t = 0; t < wake.Length; t++)
        {
            wake[t] = new SemaphoreSlim(0);
            var thread = new Thread(Loop) { IsBackground = true, Name = $"Kiln CPU worker {t + 1}" };
            thread.Start(new Helper(t + 1, wake[t]));
        }
        return wake;
    }

    private static void Loop(object? helper)
    {
        var (thread, wake) = (Helper)helper!;
        while (true)
        {
            wake.Wait();
            try
            {
                for (var part = thread; part < s_parts; part += Count)
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

    private sealed record Helper(int Thread, SemaphoreSlim Wake);
}

using System.Diagnostics;
using System.Globalization;
using Kiln;

namespace GpuCheck;

/// <summary>
/// (d) Wall-clock training speed through <see cref="Network.Fit"/>, so the host input pipeline is included: every
/// batch is staged through pinned memory (two staging sets in turn) and uploaded on the executor's stream. The
/// PyTorch peer keeps its whole dataset on the card. The GPU runs with CUDA graphs (the default) and without
/// (KILN_CUDA_GRAPHS=0); a third, profiled run (KILN_CUDA_PROFILE=1) prints each kernel's device time.
/// </summary>
internal static class Timing
{
    private const int Images = 60_000;
    private const int Batch = 128;

    /// <summary>The CPU runs this many MNIST steps and is extrapolated to the epoch: a full CPU epoch would cost GPU-machine time.</summary>
    private const int CpuSteps = 100;

    private const int IrisSteps = 2_000;
    private static readonly FitOptions Quiet = new() { Verbose = false };

    public static void Mnist(Report report, MnistData mnist, PeerResults peer)
    {
        // 8,000 embedded digits repeated to 60,000, shuffled within a 10,000-image window.
        var epoch = mnist.Train.Cache().Repeat().Take(Images).Shuffle(10_000, 1).Batch(Batch).Prefetch();
        var warmUp = mnist.Train.Batch(Batch).Take(5);
        var one = mnist.Train.Batch(Batch).First();

        (double Seconds, double Accuracy, double SyncedMicroseconds) Gpu(bool graphs)
        {
            using var _ = Environment("KILN_CUDA_GRAPHS", graphs ? null : "0");
            using var gpu = new MnistCnn(1, Device.Cuda);
            gpu.Fit(warmUp, 1, options: Quiet);
            var clock = Stopwatch.StartNew();
            var history = gpu.Fit(epoch, 1, options: Quiet);
            var seconds = clock.Elapsed.TotalSeconds;
            // One batch again and again, each step read back (TrainOnBatch returns the loss): the latency of a step.
            const int SyncedSteps = 200;
            clock.Restart();
            for (var i = 0; i < SyncedSteps; i++)
            {
                gpu.TrainOnBatch(one);
            }
            return (seconds, history.Epochs[^1].Accuracy, clock.Elapsed.TotalMicroseconds / SyncedSteps);
        }

        var withGraphs = Gpu(graphs: true);
        var plain = Gpu(graphs: false);
        foreach (var (name, r) in new[] { ("GPU, graphs", withGraphs), ("GPU, no graphs", plain) })
        {
            Console.WriteLine(Invariant($"  {name}: {Images:N0} images in {r.Seconds * 1000:0} ms ({Images / r.Seconds:N0} images/s), epoch accuracy {r.Accuracy:0.0000}; {r.SyncedMicroseconds:0.0} µs per synchronised TrainOnBatch"));
        }

        using (Environment("KILN_CUDA_PROFILE", "1"))
        {
            using var profiled = new MnistCnn(1, Device.Cuda);
            profiled.Fit(mnist.Train.Batch(Batch).Take(50), 1, options: Quiet);
            Console.Out.Flush();
        }
        Console.Error.Flush();

        using var cpu = new MnistCnn(1, Device.Cpu);
        cpu.Fit(warmUp.Take(2), 1, options: Quiet);
        var cpuClock = Stopwatch.StartNew();
        cpu.Fit(mnist.Train.Cache().Repeat().Shuffle(10_000, 1).Batch(Batch), 1, stepsPerEpoch: CpuSteps, options: Quiet);
        var cpuImages = CpuSteps * Batch;
        var cpuRate = cpuImages / cpuClock.Elapsed.TotalSeconds;
        Console.WriteLine(Invariant($"  CPU: {cpuImages:N0} images in {cpuClock.Elapsed.TotalSeconds:0.00} s ({cpuRate:N0} images/s) on {cpu.DeviceName}"));

        var note = Invariant($" (extrapolated from {cpuImages:N0} images)");
        report.Timing(Invariant($"MNIST CNN training epoch, {Images:N0} images, batch {Batch}, through Fit (ms)"),
            Invariant($"{withGraphs.Seconds * 1000:0} (graphs); {plain.Seconds * 1000:0} (no graphs)"),
            Invariant($"{Images / cpuRate * 1000:0}{note}"), peer.Mnist("seconds", 1000));
        report.Timing("MNIST CNN training (images/s)",
            Invariant($"{Images / withGraphs.Seconds:N0} (graphs); {Images / plain.Seconds:N0} (no graphs)"), Invariant($"{cpuRate:N0}"), peer.Mnist("images_per_second"));
        report.Timing("MNIST CNN synchronised TrainOnBatch (µs/step)",
            Invariant($"{withGraphs.SyncedMicroseconds:0.0} (graphs); {plain.SyncedMicroseconds:0.0} (no graphs)"), "", "");
    }

    public static void Iris(Report report, PeerResults peer)
    {
        var (train, _) = Datasets.Iris().Split(testFraction: 0.25, seed: 1);
        var batches = train.Repeat().Shuffle(1000, 1).Batch(32);
        string Measure(Device device, bool graphs = true)
        {
            using var _ = Environment("KILN_CUDA_GRAPHS", graphs ? null : "0");
            using var net = new IrisNet(1, device);
            net.Fit(batches, 1, stepsPerEpoch: 200, options: Quiet);
            var clock = Stopwatch.StartNew();
            net.Fit(batches, 1, stepsPerEpoch: IrisSteps, options: Quiet);
            return Invariant($"{clock.Elapsed.TotalMicroseconds / IrisSteps:0.0}");
        }
        report.Timing($"Iris training step, batch 32, Adam (µs/step; Kiln through Fit, PyTorch one fixed batch)",
            $"{Measure(Device.Cuda)} (graphs); {Measure(Device.Cuda, graphs: false)} (no graphs)", Measure(Device.Cpu), peer.Iris("us_per_step"));
    }

    /// <summary>Sets an environment variable (null: removes it) until disposed; executors read them when constructed.</summary>
    private static Restore Environment(string name, string? value)
    {
        var old = System.Environment.GetEnvironmentVariable(name);
        System.Environment.SetEnvironmentVariable(name, value);
        return new Restore(name, old);
    }

    private readonly struct Restore(string name, string? value) : IDisposable
    {
        public void Dispose() => System.Environment.SetEnvironmentVariable(name, value);
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

/// <summary>The PyTorch peer's key=value lines (bench/pytorch_peer.py --device cuda), collected by bench/gpu-check.sh.</summary>
internal sealed class PeerResults(IReadOnlyList<Dictionary<string, string>> lines)
{
    public static PeerResults Read(string? path)
    {
        if (path is null || !File.Exists(path))
        {
            return new PeerResults([]);
        }
        return new PeerResults([.. File.ReadAllLines(path)
            .Where(line => line.StartsWith("peer=", StringComparison.Ordinal))
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(kv => kv.Split('=', 2)).Where(kv => kv.Length == 2)
                .GroupBy(kv => kv[0]).ToDictionary(g => g.Key, g => g.Last()[1]))]);
    }

    /// <param name="key">The peer's key.</param>
    /// <param name="scale">A factor for a numeric value (seconds to milliseconds: 1000).</param>
    public string Mnist(string key, double scale = 1) => Find("images", key, scale);

    public string Iris(string key) => Find("steps", key, 1);

    private string Find(string marker, string key, double scale) =>
        lines.FirstOrDefault(l => l.ContainsKey(marker)) is { } line && line.TryGetValue(key, out var value)
            ? Scaled(value, scale) + (line.TryGetValue("device", out var device) ? $" ({device})" : "")
            : "not run";

    private static string Scaled(string value, double scale) =>
        scale != 1 && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
            ? (v * scale).ToString("0", CultureInfo.InvariantCulture)
            : value;
}

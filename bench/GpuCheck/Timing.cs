using System.Diagnostics;
using System.Globalization;
using Kiln;

namespace GpuCheck;

/// <summary>
/// (d) Wall-clock training speed through <see cref="Network.Fit"/>, so the host input pipeline is included. Kiln's GPU
/// path stages every batch through pinned memory (CudaExecutor.Upload: copy into a pinned buffer, async upload on
/// the executor's stream); nothing is resident on the card between batches. The PyTorch peer keeps its whole dataset
/// on the card.
/// </summary>
internal static class Timing
{
    private const int Images = 60_000;
    private const int Batch = 128;

    /// <summary>The CPU runs this many MNIST steps and is extrapolated to the epoch: a full CPU epoch would cost minutes of GPU-machine time.</summary>
    private const int CpuSteps = 40;

    private const int IrisSteps = 2_000;
    private static readonly FitOptions Quiet = new() { Verbose = false };

    public static void Mnist(Report report, MnistData mnist, PeerResults peer)
    {
        // 8,000 embedded digits repeated to 60,000, shuffled within a 10,000-image window.
        var epoch = mnist.Train.Cache().Repeat().Take(Images).Shuffle(10_000, 1).Batch(Batch).Prefetch();
        var warmUp = mnist.Train.Batch(Batch).Take(5);

        using var gpu = new MnistCnn(1, Device.Cuda);
        gpu.Fit(warmUp, 1, options: Quiet);
        var clock = Stopwatch.StartNew();
        var history = gpu.Fit(epoch, 1, options: Quiet);
        var gpuSeconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine(Invariant($"  GPU: {Images:N0} images in {gpuSeconds:0.00} s ({Images / gpuSeconds:N0} images/s), epoch accuracy {history.Epochs[^1].Accuracy:0.0000}"));

        using var cpu = new MnistCnn(1, Device.Cpu);
        cpu.Fit(warmUp.Take(2), 1, options: Quiet);
        clock.Restart();
        cpu.Fit(mnist.Train.Cache().Repeat().Shuffle(10_000, 1).Batch(Batch), 1, stepsPerEpoch: CpuSteps, options: Quiet);
        var cpuImages = CpuSteps * Batch;
        var cpuRate = cpuImages / clock.Elapsed.TotalSeconds;
        Console.WriteLine(Invariant($"  CPU: {cpuImages:N0} images in {clock.Elapsed.TotalSeconds:0.00} s ({cpuRate:N0} images/s) on {cpu.DeviceName}"));

        var note = Invariant($" (extrapolated from {cpuImages:N0} images)");
        report.Timing(Invariant($"MNIST CNN training epoch, {Images:N0} images, batch {Batch} (s)"),
            Invariant($"{gpuSeconds:0.00}"), Invariant($"{Images / cpuRate:0.0}{note}"), peer.Mnist("seconds"));
        report.Timing("MNIST CNN training (images/s)",
            Invariant($"{Images / gpuSeconds:N0}"), Invariant($"{cpuRate:N0}"), peer.Mnist("images_per_second"));
    }

    public static void Iris(Report report, PeerResults peer)
    {
        var (train, _) = Datasets.Iris().Split(testFraction: 0.25, seed: 1);
        var batches = train.Repeat().Shuffle(1000, 1).Batch(32);
        string Measure(Device device)
        {
            using var net = new IrisNet(1, device);
            net.Fit(batches, 1, stepsPerEpoch: 200, options: Quiet);
            var clock = Stopwatch.StartNew();
            net.Fit(batches, 1, stepsPerEpoch: IrisSteps, options: Quiet);
            return Invariant($"{clock.Elapsed.TotalMicroseconds / IrisSteps:0.0}");
        }
        report.Timing($"Iris training step, batch 32, Adam (µs/step; Kiln through Fit, PyTorch one fixed batch)",
            Measure(Device.Cuda), Measure(Device.Cpu), peer.Iris("us_per_step"));
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

    public string Mnist(string key) => Find("images", key);

    public string Iris(string key) => Find("steps", key);

    private string Find(string marker, string key) =>
        lines.FirstOrDefault(l => l.ContainsKey(marker)) is { } line && line.TryGetValue(key, out var value)
            ? value + (line.TryGetValue("device", out var device) ? $" ({device})" : "")
            : "not run";
}

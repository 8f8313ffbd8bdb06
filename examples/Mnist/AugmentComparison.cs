using System.Diagnostics;
using Kiln;

namespace Mnist;

/// <summary>
/// <c>--augment</c>: the workshop's next step. Trains the CNN twice from the same seed, once on the plain digits and
/// once with Keras-style augmentation (rotation, shift, zoom, brightness), and reports both on the normal, inverted
/// and rotated test digits, with the time per epoch of each.
/// </summary>
internal static class AugmentComparison
{
    public static readonly ImageShape Shape = new(28, 28, 1);

    /// <summary>What the augmented run trains with: ±10% of a turn (±36°), ±10% shifts, ±10% zoom, ±20% brightness.</summary>
    public static ImageAugmentation[] Augmentations { get; } =
    [
        new RandomRotation(0.1, FillMode.Constant),
        new RandomTranslation(0.1, 0.1, FillMode.Constant),
        new RandomZoom(0.1, fillMode: FillMode.Constant),
        new RandomBrightness(0.2),
    ];

    /// <summary>The rotated test set: each digit turned by a seeded angle within ±30°, black beyond the border.</summary>
    public static Dataset<Example> Rotated(Dataset<Example> test, int seed) =>
        test.Augment(Shape, seed, new RandomRotation(30.0 / 360, FillMode.Constant)).Cache();

    /// <summary>One run's test accuracies and its median time per epoch (the epochs of both runs alternate, so both see the same machine load).</summary>
    public sealed record Result(string Name, double SecondsPerEpoch, double CpuSecondsPerEpoch, double Normal, double Inverted, double Rotated);

    public static IReadOnlyList<Result> Run(Dataset<Example> train, MnistData mnist, int epochs, int batch, int seed, Device device, bool quiet)
    {
        train = train.Cache();
        var test = mnist.Test.Cache();
        var inverted = test.Map(Datasets.Invert).Cache();
        var rotated = Rotated(test, seed + 1);
        string[] names = ["plain", "augmented"];
        var nets = names.Select(_ => new MnistCnn(seed, device)).ToArray();
        try
        {
            // Each run has its own shuffle, so both see the same order of digits in every epoch.
            var data = names.Select(name =>
            {
                var shuffled = train.Shuffle((int)train.Count!.Value, seed);
                return (name == "augmented" ? shuffled.Augment(Shape, seed, Augmentations) : shuffled).Batch(batch).Prefetch();
            }).ToArray();
            var seconds = names.Select(_ => new List<double>()).ToArray();
            // Processor time as well as wall time: on a shared machine the other tenants change the wall time, not the work.
            var cpuSeconds = names.Select(_ => new List<double>()).ToArray();
            using var process = Process.GetCurrentProcess();
            for (var epoch = 0; epoch < epochs; epoch++)
            {
                for (var run = 0; run < names.Length; run++)
                {
                    process.Refresh();
                    var cpu = process.TotalProcessorTime;
                    var clock = Stopwatch.StartNew();
                    var history = nets[run].Fit(data[run], epochs: 1, options: new FitOptions { Verbose = false });
                    seconds[run].Add(clock.Elapsed.TotalSeconds);
                    process.Refresh();
                    cpuSeconds[run].Add((process.TotalProcessorTime - cpu).TotalSeconds);
                    if (!quiet)
                    {
                        Console.WriteLine($"{names[run],-9} epoch {epoch + 1}/{epochs}: {seconds[run][^1],6:0.00} s ({cpuSeconds[run][^1]:0.00} s of processor time) - accuracy: {history.Accuracy[0]:0.0000} - loss: {history.Loss[0]:0.0000}");
                    }
                }
            }
            return [.. names.Select((name, run) => new Result(name, Median(seconds[run]), Median(cpuSeconds[run]),
                nets[run].Evaluate(test.Batch(512)).Accuracy, nets[run].Evaluate(inverted.Batch(512)).Accuracy, nets[run].Evaluate(rotated.Batch(512)).Accuracy))];
        }
        finally
        {
            foreach (var net in nets)
            {
                net.Dispose();
            }
        }
    }

    private static string Percent(double value, double baseline) => $"{100 * (value / baseline - 1):+0;-0}%";

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    public static void Print(IReadOnlyList<Result> results)
    {
        Console.WriteLine();
        Console.WriteLine("Test accuracy       normal   inverted   rotated ±30°   s/epoch   processor s/epoch (medians)");
        foreach (var r in results)
        {
            Console.WriteLine($"{r.Name,-18}  {r.Normal,6:0.0000}   {r.Inverted,8:0.0000}   {r.Rotated,12:0.0000}   {r.SecondsPerEpoch,7:0.00}   {r.CpuSecondsPerEpoch,17:0.00}");
        }
        if (results.Count == 2)
        {
            Console.WriteLine($"Augmentation cost {Percent(results[1].SecondsPerEpoch, results[0].SecondsPerEpoch)} time and {Percent(results[1].CpuSecondsPerEpoch, results[0].CpuSecondsPerEpoch)} processor time per epoch (medians over epochs that alternate between the runs).");
        }
    }
}

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

    public sealed record Result(string Name, double SecondsPerEpoch, double Normal, double Inverted, double Rotated);

    public static IReadOnlyList<Result> Run(Dataset<Example> train, MnistData mnist, int epochs, int batch, int seed, Device device, bool quiet)
    {
        train = train.Cache();
        var test = mnist.Test.Cache();
        var inverted = test.Map(Datasets.Invert).Cache();
        var rotated = Rotated(test, seed + 1);
        var results = new List<Result>();
        foreach (var augment in new[] { false, true })
        {
            var name = augment ? "augmented" : "plain";
            // Each run gets its own shuffle, so both see the same order of digits in every epoch.
            var shuffled = train.Shuffle((int)train.Count!.Value, seed);
            var data = augment ? shuffled.Augment(Shape, seed, Augmentations) : shuffled;
            using var net = new MnistCnn(seed, device);
            if (!quiet)
            {
                Console.WriteLine($"Training {name}:");
            }
            var clock = Stopwatch.StartNew();
            net.Fit(data.Batch(batch).Prefetch(), epochs, options: new FitOptions { Verbose = !quiet });
            clock.Stop();
            results.Add(new Result(name, clock.Elapsed.TotalSeconds / epochs,
                net.Evaluate(test.Batch(512)).Accuracy, net.Evaluate(inverted.Batch(512)).Accuracy, net.Evaluate(rotated.Batch(512)).Accuracy));
        }
        return results;
    }

    public static void Print(IReadOnlyList<Result> results)
    {
        Console.WriteLine();
        Console.WriteLine("Test accuracy       normal   inverted   rotated ±30°   s/epoch");
        foreach (var r in results)
        {
            Console.WriteLine($"{r.Name,-18}  {r.Normal,6:0.0000}   {r.Inverted,8:0.0000}   {r.Rotated,12:0.0000}   {r.SecondsPerEpoch,7:0.00}");
        }
        if (results.Count == 2)
        {
            Console.WriteLine($"Augmentation cost {100 * (results[1].SecondsPerEpoch / results[0].SecondsPerEpoch - 1):+0;-0}% time per epoch.");
        }
    }
}

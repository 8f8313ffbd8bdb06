using Kiln;

namespace Mnist;

/// <summary>The images the example shows after training: one test digit per class, their inverted twins, and noise.</summary>
internal sealed record ShowcaseImage(string Name, float[] Pixels, int? Label);

internal static class Showcase
{
    public static IReadOnlyList<ShowcaseImage> Build(Dataset<Example> test, int seed)
    {
        var firstOfClass = new Example?[10];
        foreach (var example in test)
        {
            firstOfClass[example.Label] ??= example;
            if (firstOfClass.All(e => e is not null))
            {
                break;
            }
        }
        var images = new List<ShowcaseImage>();
        foreach (var example in firstOfClass.OfType<Example>())
        {
            images.Add(new ShowcaseImage($"digit {example.Label}", example.Features, example.Label));
        }
        foreach (var example in firstOfClass.OfType<Example>())
        {
            images.Add(new ShowcaseImage($"inverted {example.Label}", Datasets.Invert(example).Features, example.Label));
        }
        // Not a digit at all: a classifier still answers, which is the workshop's ethics point.
        var random = new Random(seed);
        images.Add(new ShowcaseImage("noise", [.. Enumerable.Range(0, 784).Select(_ => (float)random.NextDouble())], null));
        return images;
    }
}

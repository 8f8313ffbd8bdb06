using Kiln.IO;

namespace Kiln;

/// <summary>
/// The workshop's datasets from the user's own files: Iris as CSV, MNIST as IDX. The embedded copies
/// (<c>Datasets.Iris()</c>, <c>Datasets.Mnist()</c>) come with the Kiln.Datasets package, so an application that
/// brings its own data carries none of them. Every member is safe to call concurrently: each call reads its own input.
/// </summary>
public static class Datasets
{
    private static readonly string[] IrisSpecies = ["setosa", "versicolor", "virginica"];

    /// <summary>The species in label order.</summary>
    public static IReadOnlyList<string> IrisClassNames { get; } = Array.AsReadOnly(IrisSpecies);

    /// <summary>Iris from a CSV file with the header sepal_length,sepal_width,petal_length,petal_width,species.</summary>
    public static Dataset<Example> Iris(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var reader = new StreamReader(path);
        return Iris(reader, path);
    }

    /// <summary>Iris from CSV text in the file's form; <paramref name="name"/> appears in errors.</summary>
    public static Dataset<Example> Iris(TextReader reader, string name)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentException.ThrowIfNullOrEmpty(name);
        return Dataset.From(IrisCsv.Parse(reader, name, IrisSpecies));
    }

    /// <summary>
    /// MNIST from the four standard files in <paramref name="directory"/> (such as the full 60,000 + 10,000),
    /// each either raw or gzip-compressed with a <c>.gz</c> suffix.
    /// </summary>
    public static MnistData Mnist(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        string[] names = [MnistData.TrainImagesFile, MnistData.TrainLabelsFile, MnistData.TestImagesFile, MnistData.TestLabelsFile];
        var paths = names.Select(n => Find(directory, n)).ToArray();
        var missing = names.Where((_, i) => paths[i] is null).ToArray();
        if (missing.Length > 0)
        {
            throw new FileNotFoundException(
                $"MNIST in '{directory}' lacks {string.Join(", ", missing.Select(n => $"{n}[.gz]"))}; it needs {string.Join(", ", names)}, each raw or with .gz.",
                Path.Combine(directory, missing[0]));
        }
        return new(Idx.ReadExamples(paths[0]!, paths[1]!, 10), Idx.ReadExamples(paths[2]!, paths[3]!, 10));
    }

    /// <summary>The workshop's colour inversion: every feature p becomes 1 − p (black digits on white).</summary>
    public static Example Invert(Example example)
    {
        if (example.Bytes is { } bytes)
        {
            // Inside the pipeline (Map(Invert) before Batch): the same bytes through the inverted table, same bits.
            return example with { Bytes = bytes.Inverted };
        }
        ArgumentNullException.ThrowIfNull(example.Features);
        var inverted = new float[example.Features.Length];
        for (var i = 0; i < inverted.Length; i++)
        {
            inverted[i] = 1f - example.Features[i];
        }
        return example with { Features = inverted };
    }

    private static string? Find(string directory, string name) =>
        new[] { name, name + ".gz" }.Select(n => Path.Combine(directory, n)).FirstOrDefault(File.Exists);
}

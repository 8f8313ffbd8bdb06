using Kiln.IO;

namespace Kiln;

/// <summary>The datasets the workshop uses, shipped inside the Kiln assembly.</summary>
public static class Datasets
{
    private const string ResourcePrefix = "Kiln.Data.";
    private static readonly string[] IrisSpecies = ["setosa", "versicolor", "virginica"];

    /// <summary>The species in label order.</summary>
    public static IReadOnlyList<string> IrisClassNames { get; } = Array.AsReadOnly(IrisSpecies);

    /// <summary>Fisher's 150 flowers (50 per species), in file order: four measurements in cm, label in <see cref="IrisClassNames"/> order.</summary>
    public static Dataset<Example> Iris()
    {
        using var reader = new StreamReader(OpenResource("iris.csv"));
        return Dataset.From(IrisCsv.Parse(reader, "iris.csv", IrisSpecies));
    }

    /// <summary>Iris from a CSV file with the embedded copy's header (sepal_length,sepal_width,petal_length,petal_width,species).</summary>
    public static Dataset<Example> Iris(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var reader = new StreamReader(path);
        return Dataset.From(IrisCsv.Parse(reader, path, IrisSpecies));
    }

    /// <summary>The embedded MNIST subset: 8,000 training and 2,000 test digits.</summary>
    public static MnistData Mnist() => new(
        ReadEmbeddedMnist(MnistFiles.TrainImages, MnistFiles.TrainLabels),
        ReadEmbeddedMnist(MnistFiles.TestImages, MnistFiles.TestLabels));

    /// <summary>
    /// MNIST from the four standard files in <paramref name="directory"/> (such as the full 60,000 + 10,000),
    /// each either raw or gzip-compressed with a <c>.gz</c> suffix.
    /// </summary>
    public static MnistData Mnist(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        string[] names = [MnistFiles.TrainImages, MnistFiles.TrainLabels, MnistFiles.TestImages, MnistFiles.TestLabels];
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

    private static Dataset<Example> ReadEmbeddedMnist(string images, string labels)
    {
        using var imageStream = OpenResource($"mnist.{images}.gz");
        using var labelStream = OpenResource($"mnist.{labels}.gz");
        return Idx.ReadExamples(imageStream, images + ".gz", labelStream, labels + ".gz", 10);
    }

    private static Stream OpenResource(string name) =>
        typeof(Datasets).Assembly.GetManifestResourceStream(ResourcePrefix + name)
        ?? throw new InvalidOperationException($"The Kiln assembly lacks its embedded resource '{ResourcePrefix}{name}'.");

    private static class MnistFiles
    {
        public const string TrainImages = "train-images-idx3-ubyte";
        public const string TrainLabels = "train-labels-idx1-ubyte";
        public const string TestImages = "t10k-images-idx3-ubyte";
        public const string TestLabels = "t10k-labels-idx1-ubyte";
    }
}

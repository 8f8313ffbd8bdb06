namespace Kiln;

/// <summary>
/// Adds the embedded copies to <see cref="Datasets"/>: <c>Datasets.Iris()</c> and <c>Datasets.Mnist()</c>.
/// Provenance and licences: THIRD-PARTY-NOTICES.md in this package. Safe to call concurrently: each call
/// decodes its own copy.
/// </summary>
public static class EmbeddedDatasets
{
    private const string ResourcePrefix = "Kiln.Datasets.";

    extension(Datasets)
    {
        /// <summary>Fisher's 150 flowers (50 per species), in file order: four measurements in cm, label in <see cref="Datasets.IrisClassNames"/> order.</summary>
        public static Dataset<Example> Iris()
        {
            using var reader = new StreamReader(OpenResource("iris.csv"));
            return Datasets.Iris(reader, "iris.csv");
        }

        /// <summary>The embedded MNIST subset: 8,000 training and 2,000 test digits (a stratified 80/20 split).</summary>
        public static MnistData Mnist() => new(
            ReadMnist(MnistData.TrainImagesFile, MnistData.TrainLabelsFile),
            ReadMnist(MnistData.TestImagesFile, MnistData.TestLabelsFile));
    }

    private static Dataset<Example> ReadMnist(string images, string labels)
    {
        using var imageStream = OpenResource($"mnist.{images}.gz");
        using var labelStream = OpenResource($"mnist.{labels}.gz");
        return IO.Idx.ReadExamples(imageStream, images + ".gz", labelStream, labels + ".gz", 10);
    }

    private static Stream OpenResource(string name) =>
        typeof(EmbeddedDatasets).Assembly.GetManifestResourceStream(ResourcePrefix + name)
        ?? throw new InvalidOperationException($"The Kiln.Datasets assembly lacks its embedded resource '{ResourcePrefix}{name}'.");
}

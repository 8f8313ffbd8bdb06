namespace Kiln;

/// <summary>
/// MNIST's two halves. Each example has 784 features in [0, 1] (byte / 255), row-major 28 × 28
/// (height, width, one channel), and a label 0–9. Immutable; the datasets are safe to enumerate concurrently.
/// </summary>
public sealed record MnistData(Dataset<Example> Train, Dataset<Example> Test)
{
    /// <summary>The standard name of the training images (IDX, without <c>.gz</c>).</summary>
    public const string TrainImagesFile = "train-images-idx3-ubyte";

    /// <summary>The standard name of the training labels.</summary>
    public const string TrainLabelsFile = "train-labels-idx1-ubyte";

    /// <summary>The standard name of the test images.</summary>
    public const string TestImagesFile = "t10k-images-idx3-ubyte";

    /// <summary>The standard name of the test labels.</summary>
    public const string TestLabelsFile = "t10k-labels-idx1-ubyte";
}

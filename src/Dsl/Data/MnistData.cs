namespace Kiln;

/// <summary>
/// MNIST's two halves. Each example has 784 features in [0, 1] (byte / 255), row-major 28 × 28
/// (height, width, one channel), and a label 0–9.
/// </summary>
public sealed record MnistData(Dataset<Example> Train, Dataset<Example> Test);

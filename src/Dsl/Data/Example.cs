namespace Kiln;

/// <summary>
/// One training example. Sparse-crossentropy networks read <see cref="Label"/>; categorical-crossentropy, binary
/// crossentropy and mean-squared-error networks read <see cref="Target"/>, whose length is the network's output size.
/// <see cref="Weight"/> scales the example's loss (Keras' <c>sample_weight</c>; see <see cref="Dataset.WithSampleWeights"/>).
/// </summary>
public readonly record struct Example(float[] Features, int Label = 0, float[]? Target = null, float Weight = 1f);

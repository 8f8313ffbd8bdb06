namespace Kiln;

/// <summary>
/// One training example. Sparse-crossentropy networks read <see cref="Label"/>; categorical-crossentropy, binary
/// crossentropy and mean-squared-error networks read <see cref="Target"/>, whose length is the network's output size.
/// <see cref="Weight"/> scales the example's loss (Keras' <c>sample_weight</c>; see <see cref="Dataset.WithSampleWeights"/>).
/// Immutable (the arrays are shared, not copied): safe to read from any thread.
/// </summary>
public readonly record struct Example(float[] Features, int Label = 0, float[]? Target = null, float Weight = 1f)
{
    /// <summary>
    /// Inside Kiln's pipeline only: the bytes row <see cref="Row"/> of which holds this example's features while
    /// <see cref="Features"/> is null. Every example a user's code sees has its floats (<see cref="Expanded"/>).
    /// </summary>
    internal ByteFeatures? Bytes { get; init; }

    internal int Row { get; init; }

    /// <summary>The number of features, wherever they are kept; −1 when there are none.</summary>
    internal int FeatureCount => Bytes?.Length ?? Features?.Length ?? -1;

    /// <summary>This example with its features as floats.</summary>
    internal Example Expanded() => Bytes is null ? this : this with { Features = Bytes.ToArray(Row), Bytes = null, Row = 0 };

    /// <summary>Writes the features into <paramref name="destination"/>, which holds at least <see cref="FeatureCount"/> floats.</summary>
    internal void CopyFeaturesTo(Span<float> destination)
    {
        if (Bytes is null)
        {
            Features.CopyTo(destination);
        }
        else
        {
            Bytes.CopyTo(Row, destination);
        }
    }
}

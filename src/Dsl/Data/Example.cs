namespace Kiln;

/// <summary>
/// One training example. Sparse-crossentropy networks read <see cref="Label"/>; categorical-crossentropy
/// and mean-squared-error networks read <see cref="Target"/>, whose length is the network's output size.
/// </summary>
public readonly record struct Example(float[] Features, int Label = 0, float[]? Target = null);

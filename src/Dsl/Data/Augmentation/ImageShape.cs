namespace Kiln;

/// <summary>
/// The layout of an image held in an <see cref="Example"/>'s features: <see cref="Height"/> rows of
/// <see cref="Width"/> pixels of <see cref="Channels"/> values, channels last (NHWC without the N), as Kiln's
/// <c>[Input(h, w, c)]</c> reads it. An immutable value: safe to share between threads.
/// </summary>
public readonly record struct ImageShape(int Height, int Width, int Channels)
{
    /// <summary>The number of floats one image holds.</summary>
    public int Size => Height * Width * Channels;

    /// <summary>Throws, naming <paramref name="name"/>, unless every dimension is positive and the image fits an array.</summary>
    public void Validate(string name)
    {
        if (Height < 1 || Width < 1 || Channels < 1 || (long)Height * Width * Channels > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(name, this, "An image needs a positive height, width and channel count.");
        }
    }

    public override string ToString() => $"{Height}×{Width}×{Channels}";
}

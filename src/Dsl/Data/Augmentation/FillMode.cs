namespace Kiln;

/// <summary>How a geometric augmentation fills points that fall outside the input (Keras' <c>fill_mode</c>).</summary>
public enum FillMode
{
    /// <summary><c>(d c b a | a b c d | d c b a)</c>: the input reflected about the edge of the last pixel (Keras' default).</summary>
    Reflect,

    /// <summary><c>(k k k k | a b c d | k k k k)</c>: the fill value k.</summary>
    Constant,

    /// <summary><c>(a b c d | a b c d | a b c d)</c>: wrapped around to the opposite edge.</summary>
    Wrap,

    /// <summary><c>(a a a a | a b c d | d d d d)</c>: the nearest pixel.</summary>
    Nearest,
}

/// <summary>How a geometric augmentation reads between pixels (Keras' <c>interpolation</c>).</summary>
public enum Interpolation
{
    /// <summary>Linear in x and y between the four nearest pixels (Keras' default).</summary>
    Bilinear,

    /// <summary>The nearest pixel.</summary>
    Nearest,
}

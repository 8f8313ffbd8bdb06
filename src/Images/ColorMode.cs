namespace Kiln.Images;

/// <summary>The channels an image is decoded to (Keras' <c>color_mode</c>).</summary>
public enum ColorMode
{
    /// <summary>One channel: 0.2989·R + 0.5870·G + 0.1140·B (<c>tf.image.rgb_to_grayscale</c>'s weights); alpha is ignored.</summary>
    Grayscale,

    /// <summary>Three channels, red, green, blue; alpha is ignored, as TensorFlow's decoders do.</summary>
    Rgb,

    /// <summary>Four channels, red, green, blue and (unpremultiplied) alpha.</summary>
    Rgba,
}

namespace Kiln.Images;

/// <summary>
/// Settings for <see cref="ImageFolder.Open"/>, named after the arguments of Keras'
/// <c>image_dataset_from_directory</c>. An immutable record: safe to share between threads.
/// </summary>
public sealed record ImageFolderOptions
{
    /// <summary>Every image is resized to this height (Keras' <c>image_size[0]</c>).</summary>
    public required int Height { get; init; }

    /// <summary>Every image is resized to this width (Keras' <c>image_size[1]</c>).</summary>
    public required int Width { get; init; }

    /// <summary>Channels: grayscale (1), RGB (3, the default as in Keras) or RGBA (4).</summary>
    public ColorMode ColorMode { get; init; } = ColorMode.Rgb;

    /// <summary>
    /// The fraction of the files kept for validation (Keras' <c>validation_split</c>): after the seeded shuffle, the
    /// last ⌊N·fraction⌋ files. 0 keeps none.
    /// </summary>
    public double ValidationSplit { get; init; }

    /// <summary>Shuffle the file list once with <see cref="Seed"/> (Keras' <c>shuffle=True</c>); false keeps class after class in sorted order.</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>The seed of the shuffle, and so of the split.</summary>
    public int Seed { get; init; }

    /// <summary>Images whose header claims more pixels than this are refused before they are decoded.</summary>
    public long MaxPixels { get; init; } = ImageDecoder.DefaultMaxPixels;
}

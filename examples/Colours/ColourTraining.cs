using Kiln;
using Kiln.Images;

namespace Colours;

/// <summary>Trains <see cref="ColourCnn"/> on an image folder opened at 32×32 RGB. Stateless; a network trains on one thread at a time.</summary>
public static class ColourTraining
{
    public static ImageFolderOptions Options(double validationSplit, int seed) =>
        new() { Height = 32, Width = 32, ColorMode = ColorMode.Rgb, ValidationSplit = validationSplit, Seed = seed };

    /// <summary>Light augmentation that keeps a picture's class: small turns and shifts, zoom, contrast.</summary>
    public static ImageAugmentation[] Augmentations { get; } =
    [
        new RandomRotation(0.05),
        new RandomTranslation(0.1, 0.1),
        new RandomZoom(0.1),
        new RandomContrast(0.2),
    ];

    public static History Train(ColourCnn net, ImageFolder folder, int epochs, int seed, bool augment, bool verbose)
    {
        if (folder.ClassNames.Count > ColourCnn.OutputSize)
        {
            throw new InvalidDataException(
                $"'{folder.Directory}' has {folder.ClassNames.Count} classes, but ColourCnn has {ColourCnn.OutputSize} outputs; raise its last [Dense] to the number of classes.");
        }
        // Decoded once, then reshuffled (and augmented) each epoch.
        var train = folder.Training.Cache().Shuffle(folder.FileCount, seed);
        if (augment)
        {
            train = train.Augment(folder.Shape, seed, Augmentations);
        }
        return net.Fit(train.Batch(32).Prefetch(), epochs, validation: folder.Validation?.Cache().Batch(256),
            options: new FitOptions { Verbose = verbose });
    }
}

namespace Kiln.Images;

/// <summary>
/// A folder of images with one subfolder per class, as Keras' <c>image_dataset_from_directory</c> reads it: class
/// names are the subfolder names in ordinal sorted order and labels their indices; files are found at any depth
/// below each class folder. The datasets decode lazily, on each pass, on all cores, resized (bilinear, as Keras) to
/// the options' size, with values in [0, 1] (Keras gives 0–255); call <see cref="Dataset{T}.Cache"/> to decode once.
/// </summary>
/// <remarks>
/// <para>Files whose extension is not an image's (.txt, .DS_Store, …) are skipped and listed in
/// <see cref="SkippedFiles"/>, as Keras skips them; files directly in the root are skipped too. A class folder
/// without images, a .tif/.heic/… image (formats not decoded), a file that does not decode (corrupt, truncated, not
/// an image despite its name) and an image whose header claims more than <see cref="ImageFolderOptions.MaxPixels"/>
/// are errors naming the folder or file: listing errors when the folder is opened, decoding errors when the file is
/// first read.</para>
/// <para>An opened folder is immutable; its datasets may be enumerated from several threads at once.</para>
/// </remarks>
public sealed class ImageFolder
{
    private ImageFolder(string directory, IReadOnlyList<string> classNames, ImageShape shape, Dataset<Example> training,
        Dataset<Example>? validation, IReadOnlyList<string> skipped, int fileCount)
    {
        Directory = directory;
        ClassNames = classNames;
        Shape = shape;
        Training = training;
        Validation = validation;
        SkippedFiles = skipped;
        FileCount = fileCount;
    }

    public string Directory { get; }

    /// <summary>Class names in label order.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The shape of every example's features (height, width, channels of the colour mode).</summary>
    public ImageShape Shape { get; }

    /// <summary>The images not held back for validation (all of them without a split).</summary>
    public Dataset<Example> Training { get; }

    /// <summary>The validation images, or null when <see cref="ImageFolderOptions.ValidationSplit"/> is 0.</summary>
    public Dataset<Example>? Validation { get; }

    /// <summary>The files that are not images and were left out, relative to <see cref="Directory"/>.</summary>
    public IReadOnlyList<string> SkippedFiles { get; }

    /// <summary>The number of image files found.</summary>
    public int FileCount { get; }

    /// <summary>Lists <paramref name="directory"/>'s classes and images; nothing is decoded yet.</summary>
    public static ImageFolder Open(string directory, ImageFolderOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentNullException.ThrowIfNull(options);
        var shape = new ImageShape(options.Height, options.Width, ImageDecoder.Channels(options.ColorMode));
        if (options.Height < 1 || options.Width < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"The image size must be positive; got {options.Height}×{options.Width}.");
        }
        if (!(options.ValidationSplit is >= 0 and < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.ValidationSplit, "ValidationSplit must lie in [0, 1).");
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxPixels, 1, nameof(options));
        if (!System.IO.Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"There is no image folder '{directory}'.");
        }

        var skipped = new List<string>();
        foreach (var file in System.IO.Directory.EnumerateFiles(directory).Order(StringComparer.Ordinal))
        {
            skipped.Add(Path.GetRelativePath(directory, file));
        }
        var classDirectories = System.IO.Directory.EnumerateDirectories(directory).Order(StringComparer.Ordinal).ToArray();
        if (classDirectories.Length == 0)
        {
            throw new InvalidDataException($"'{directory}' has no class folders; put each class's images in a subfolder named after it.");
        }
        var files = new List<(string Path, int Label)>();
        for (var label = 0; label < classDirectories.Length; label++)
        {
            var found = 0;
            foreach (var file in System.IO.Directory.EnumerateFiles(classDirectories[label], "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                var extension = Path.GetExtension(file).ToLowerInvariant();
                if (ImageDecoder.UnsupportedExtensions.Contains(extension))
                {
                    throw new InvalidDataException($"'{file}': {extension} images are not supported; Kiln.Images decodes {string.Join(", ", ImageDecoder.Extensions)}. Convert it or move it out of the folder.");
                }
                if (ImageDecoder.Extensions.Contains(extension))
                {
                    files.Add((file, label));
                    found++;
                }
                else
                {
                    skipped.Add(Path.GetRelativePath(directory, file));
                }
            }
            if (found == 0)
            {
                throw new InvalidDataException($"Class folder '{classDirectories[label]}' holds no images ({string.Join(", ", ImageDecoder.Extensions)}); remove it or add some.");
            }
        }

        // Kiln's own seeded shuffle: a buffer as large as the list gives a uniform permutation, the same on every platform.
        var order = options.Shuffle ? Dataset.From(files).Shuffle(files.Count, options.Seed).ToArray() : files.ToArray();
        var validationCount = (int)(options.ValidationSplit * order.Length);
        if (options.ValidationSplit > 0 && (validationCount == 0 || validationCount == order.Length))
        {
            throw new InvalidDataException($"A validation split of {options.ValidationSplit} of {order.Length} images leaves {(validationCount == 0 ? "no validation" : "no training")} images.");
        }
        var training = new ImageFileDataset(order[..(order.Length - validationCount)], shape, options.MaxPixels);
        var validation = validationCount > 0 ? new ImageFileDataset(order[^validationCount..], shape, options.MaxPixels) : null;
        return new ImageFolder(directory, [.. classDirectories.Select(Path.GetFileName).Select(n => n!)], shape, training, validation, skipped, order.Length);
    }

    /// <summary>Decodes one image file and resizes it to <paramref name="shape"/> (bilinear, as Keras); values in [0, 1].</summary>
    public static float[] Load(string path, ImageShape shape, long maxPixels = ImageDecoder.DefaultMaxPixels)
    {
        shape.Validate(nameof(shape));
        var mode = shape.Channels switch
        {
            1 => ColorMode.Grayscale,
            3 => ColorMode.Rgb,
            4 => ColorMode.Rgba,
            _ => throw new ArgumentOutOfRangeException(nameof(shape), shape, "An image has 1 (grayscale), 3 (RGB) or 4 (RGBA) channels."),
        };
        var image = ImageDecoder.Decode(path, mode, maxPixels);
        if (image.Shape == shape)
        {
            return image.Pixels;
        }
        var resized = new float[shape.Size];
        Resize.Bilinear(image.Pixels, image.Shape, resized, shape);
        return resized;
    }
}

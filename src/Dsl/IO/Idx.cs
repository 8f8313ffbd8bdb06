namespace Kiln.IO;

/// <summary>
/// Reads IDX files (the format of MNIST and Fashion-MNIST): a big-endian magic number (0x00000803 for images,
/// 0x00000801 for labels), big-endian int32 dimensions, then unsigned bytes. Files may be raw or gzipped.
/// Every inconsistency raises <see cref="InvalidDataException"/> naming the file, the byte offset and the problem.
/// </summary>
public static class Idx
{
    public const uint ImagesMagic = 0x00000803;
    public const uint LabelsMagic = 0x00000801;

    // Generous for any image dataset, and small enough that rows × columns cannot overflow.
    private const int MaxSide = 1 << 15;
    private const int MaxImageBytes = 1 << 24;

    public static IdxImages ReadImages(string path)
    {
        using var file = OpenFile(path);
        return ReadImages(file, path);
    }

    /// <summary>The labels, each checked to lie in [0, <paramref name="classes"/>).</summary>
    public static byte[] ReadLabels(string path, int classes = 10)
    {
        using var file = OpenFile(path);
        return ReadLabels(file, path, classes);
    }

    /// <summary>
    /// Examples pairing each image (as bytes / 255, in [0, 1]) with its label; the two files must agree in count. The
    /// dataset keeps the file's bytes, not floats: each example's floats are made as a batch is filled, or when the
    /// example is handed to user code.
    /// </summary>
    public static Dataset<Example> ReadExamples(string imagesPath, string labelsPath, int classes = 10)
    {
        using var images = OpenFile(imagesPath);
        using var labels = OpenFile(labelsPath);
        return ReadExamples(images, imagesPath, labels, labelsPath, classes);
    }

    /// <summary>As the path overload, from seekable streams (embedded resources); <paramref name="imagesName"/> and <paramref name="labelsName"/> appear in errors.</summary>
    public static Dataset<Example> ReadExamples(Stream images, string imagesName, Stream labels, string labelsName, int classes)
    {
        var pictures = ReadImages(images, imagesName);
        var classOf = ReadLabels(labels, labelsName, classes);
        if (pictures.Count != classOf.Length)
        {
            throw new InvalidDataException($"'{imagesName}' holds {pictures.Count} images but '{labelsName}' holds {classOf.Length} labels; they must pair up.");
        }

        // Kept as the file's bytes, each read as byte / 255f when a batch is filled (or an example handed out).
        var rows = ByteFeatures.Scaled(pictures.Pixels, pictures.Rows * pictures.Columns);
        var examples = new Example[pictures.Count];
        for (var i = 0; i < examples.Length; i++)
        {
            examples[i] = new Example(null!, classOf[i]) { Bytes = rows, Row = i };
        }
        return Dataset.From(examples);
    }

    private static IdxImages ReadImages(Stream stream, string name)
    {
        using var reader = IdxReader.Open(stream, name);
        reader.ReadMagic(ImagesMagic, "image files");
        var count = reader.ReadDimension("image count", 0, int.MaxValue);
        var rows = reader.ReadDimension("row count", 1, MaxSide);
        var columns = reader.ReadDimension("column count", 1, MaxSide);
        if (rows * columns > MaxImageBytes)
        {
            throw reader.Error(8, $"images of {rows} × {columns} pixels exceed the limit of {MaxImageBytes} pixels.");
        }
        var pixels = reader.ReadPayload((long)count * rows * columns, $"pixels ({count} images of {rows} × {columns})");
        return new IdxImages(count, rows, columns, pixels);
    }

    private static byte[] ReadLabels(Stream stream, string name, int classes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 1);
        using var reader = IdxReader.Open(stream, name);
        reader.ReadMagic(LabelsMagic, "label files");
        var count = reader.ReadDimension("label count", 0, int.MaxValue);
        var labels = reader.ReadPayload(count, $"labels ({count})");
        for (var i = 0; i < labels.Length; i++)
        {
            if (labels[i] >= classes)
            {
                throw reader.Error(8 + i, $"label {labels[i]} is outside [0, {classes}).");
            }
        }
        return labels;
    }

    private static FileStream OpenFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
    }
}

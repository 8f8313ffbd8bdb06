using Kiln.Tests.IO;
using SkiaSharp;

namespace Kiln.Images.Tests;

/// <summary>ImageFolder: classes, labels, sizes, the seeded split, lazy decoding, and every bad-folder case.</summary>
public class ImageFolderTests
{
    private static readonly ImageFolderOptions Rgb32 = new() { Height = 32, Width = 32, ColorMode = ColorMode.Rgb, Seed = 1 };

    // A solid-colour PNG per image: class k's images have red = 40·k + i, so a decoded pixel tells class and image apart.
    private static void AddImages(TempDirectory dir, string className, int classIndex, int count, int size = 20, string extension = ".png")
    {
        Directory.CreateDirectory(dir.File(className));
        for (var i = 0; i < count; i++)
        {
            var rgba = new byte[size * size * 4];
            for (var p = 0; p < size * size; p++)
            {
                rgba[4 * p] = (byte)(40 * classIndex + i);
                rgba[4 * p + 1] = 100;
                rgba[4 * p + 2] = 200;
                rgba[4 * p + 3] = 255;
            }
            var format = extension == ".jpg" ? SKEncodedImageFormat.Jpeg : SKEncodedImageFormat.Png;
            File.WriteAllBytes(Path.Combine(dir.File(className), $"{i:00}{extension}"), TestImages.Encode(rgba, size, size, format));
        }
    }

    [Fact]
    public void Classes_are_the_subfolders_in_ordinal_order_and_label_their_images()
    {
        using var dir = new TempDirectory();
        AddImages(dir, "cat", 2, 3);
        AddImages(dir, "Dog", 0, 2);
        AddImages(dir, "bird", 1, 4);

        var folder = ImageFolder.Open(dir.Path, Rgb32 with { Shuffle = false });
        var examples = folder.Training.ToArray();

        Assert.Equal(["Dog", "bird", "cat"], folder.ClassNames);
        Assert.Equal(new ImageShape(32, 32, 3), folder.Shape);
        Assert.Equal(9, folder.FileCount);
        Assert.Null(folder.Validation);
        Assert.Equal([0, 0, 1, 1, 1, 1, 2, 2, 2], examples.Select(e => e.Label));
        Assert.All(examples, e => Assert.Equal(32 * 32 * 3, e.Features.Length));
        // Red encodes (class, image): the third image of "bird" (class 1) is 41 + 1 over the whole 32×32 resize.
        Assert.All(Enumerable.Range(0, 32 * 32), p => Assert.Equal((40 + 2) / 255f, examples[4].Features[p * 3]));
        Assert.Equal(200 / 255f, examples[4].Features[2]);
    }

    [Fact]
    public void Grayscale_28_by_28_gives_one_channel()
    {
        using var dir = new TempDirectory();
        AddImages(dir, "a", 0, 2, size: 50);
        AddImages(dir, "b", 1, 2, size: 17);

        var folder = ImageFolder.Open(dir.Path, new ImageFolderOptions { Height = 28, Width = 28, ColorMode = ColorMode.Grayscale });

        Assert.Equal(new ImageShape(28, 28, 1), folder.Shape);
        var first = folder.Training.First(e => e.Label == 0);
        Assert.Equal(784, first.Features.Length);
        var red = first.Features[0] * 255 - 0.5870 * 100 - 0.1140 * 200;
        Assert.InRange(red / 0.2989, -0.01, 1.01);
    }

    [Fact]
    public void The_validation_split_is_seeded_disjoint_and_Keras_sized()
    {
        using var dir = new TempDirectory();
        AddImages(dir, "a", 0, 10, size: 4);
        AddImages(dir, "b", 1, 7, size: 4);
        var options = Rgb32 with { Height = 4, Width = 4, ValidationSplit = 0.3 };

        string Key(Example e) => $"{e.Label}:{e.Features[0]}";
        var first = ImageFolder.Open(dir.Path, options);
        var again = ImageFolder.Open(dir.Path, options);
        var other = ImageFolder.Open(dir.Path, options with { Seed = 2 });

        // Keras: ⌊17 · 0.3⌋ = 5 validation files, the rest for training.
        Assert.Equal(5, first.Validation!.Count);
        Assert.Equal(12, first.Training.Count);
        var train = first.Training.Select(Key).ToArray();
        var validation = first.Validation.Select(Key).ToArray();
        Assert.Empty(train.Intersect(validation));
        Assert.Equal(17, train.Union(validation).Distinct().Count());
        Assert.Equal(validation, again.Validation!.Select(Key));
        Assert.Equal(train, again.Training.Select(Key));
        Assert.NotEqual(validation, other.Validation!.Select(Key));
    }

    [Fact]
    public void Non_image_files_are_skipped_and_listed()
    {
        using var dir = new TempDirectory();
        AddImages(dir, "a", 0, 2, size: 4);
        AddImages(dir, "b", 1, 1, size: 4, extension: ".jpg");
        File.WriteAllText(dir.File("README.txt"), "about these pictures");
        File.WriteAllText(Path.Combine(dir.File("a"), ".DS_Store"), "x");
        File.WriteAllText(Path.Combine(dir.File("b"), "labels.csv"), "x");

        var folder = ImageFolder.Open(dir.Path, Rgb32);

        Assert.Equal(3, folder.FileCount);
        Assert.Equal(["README.txt", Path.Combine("a", ".DS_Store"), Path.Combine("b", "labels.csv")], folder.SkippedFiles);
        Assert.Equal(3, folder.Training.Count());
    }

    [Fact]
    public void Decoding_is_lazy_and_each_pass_reads_the_files_again()
    {
        using var dir = new TempDirectory();
        AddImages(dir, "a", 0, 2, size: 4);
        AddImages(dir, "b", 1, 2, size: 4);
        var folder = ImageFolder.Open(dir.Path, Rgb32 with { Shuffle = false });
        var cached = folder.Training.Cache();
        var firstPass = cached.ToArray();

        // Damaged after opening: the uncached dataset notices on its next pass, the cache replays what it decoded.
        File.WriteAllText(Path.Combine(dir.File("b"), "01.png"), "damaged");

        var error = Assert.Throws<InvalidDataException>(() => folder.Training.ToArray());
        Assert.Contains(Path.Combine("b", "01.png"), error.Message);
        Assert.Equal(firstPass.Select(e => e.Features), cached.Select(e => e.Features));
    }

    [Fact]
    public void The_first_bad_file_is_reported_after_the_good_ones_before_it()
    {
        using var dir = new TempDirectory();
        AddImages(dir, "a", 0, 40, size: 4);
        File.WriteAllBytes(Path.Combine(dir.File("a"), "05.png"), [0x89, (byte)'P', (byte)'N', (byte)'G']);
        File.WriteAllBytes(Path.Combine(dir.File("a"), "30.png"), []);
        var folder = ImageFolder.Open(dir.Path, Rgb32 with { Shuffle = false });
        var seen = 0;

        var error = Assert.Throws<InvalidDataException>(() =>
        {
            foreach (var _ in folder.Training)
            {
                seen++;
            }
        });

        Assert.Equal(5, seen);
        Assert.Contains("05.png", error.Message);
    }

    [Fact]
    public void An_empty_class_folder_is_an_error_naming_it()
    {
        using var dir = new TempDirectory();
        AddImages(dir, "a", 0, 2, size: 4);
        Directory.CreateDirectory(dir.File("b"));
        File.WriteAllText(Path.Combine(dir.File("b"), "notes.txt"), "no pictures yet");

        var error = Assert.Throws<InvalidDataException>(() => ImageFolder.Open(dir.Path, Rgb32));

        Assert.Contains(dir.File("b"), error.Message);
        Assert.Contains("holds no images", error.Message);
    }

    [Fact]
    public void A_folder_without_class_folders_is_an_error()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.File("loose.png"), TestImages.Encode(TestImages.Pattern(2, 2), 2, 2, SKEncodedImageFormat.Png));

        var error = Assert.Throws<InvalidDataException>(() => ImageFolder.Open(dir.Path, Rgb32));

        Assert.Contains(dir.Path, error.Message);
    }

    [Fact]
    public void An_unsupported_image_format_in_a_class_folder_is_an_error_naming_the_file()
    {
        using var dir = new TempDirectory();
        AddImages(dir, "a", 0, 2, size: 4);
        File.WriteAllBytes(Path.Combine(dir.File("a"), "scan.TIF"), [0x49, 0x49, 0x2A, 0]);

        var error = Assert.Throws<InvalidDataException>(() => ImageFolder.Open(dir.Path, Rgb32));

        Assert.Contains("scan.TIF", error.Message);
    }

    [Fact]
    public void A_decompression_bomb_in_a_folder_is_refused_with_its_name()
    {
        using var dir = new TempDirectory();
        AddImages(dir, "a", 0, 1, size: 4);
        File.WriteAllBytes(Path.Combine(dir.File("a"), "huge.png"), TestImages.PngClaiming(30_000, 30_000));

        var folder = ImageFolder.Open(dir.Path, Rgb32 with { MaxPixels = 10_000_000 });
        var error = Assert.Throws<InvalidDataException>(() => folder.Training.ToArray());

        Assert.Contains("huge.png", error.Message);
        Assert.Contains("limit of 10,000,000", error.Message);
    }

    [Fact]
    public void Bad_options_are_refused()
    {
        using var dir = new TempDirectory();
        AddImages(dir, "a", 0, 2, size: 4);

        Assert.Throws<ArgumentOutOfRangeException>(() => ImageFolder.Open(dir.Path, Rgb32 with { Height = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageFolder.Open(dir.Path, Rgb32 with { ValidationSplit = 1 }));
        Assert.Throws<InvalidDataException>(() => ImageFolder.Open(dir.Path, Rgb32 with { ValidationSplit = 0.1 }));
        Assert.Throws<DirectoryNotFoundException>(() => ImageFolder.Open(dir.File("missing"), Rgb32));
    }
}

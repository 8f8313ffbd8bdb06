using Kiln.Tests.IO;
using SkiaSharp;

namespace Kiln.Images.Tests;

/// <summary>Each format decodes to the pixels it was written with, and every kind of bad file fails naming the file.</summary>
public class DecoderTests
{
    private const int Width = 8;
    private const int Height = 6;
    private static readonly byte[] Rgba = TestImages.Pattern(Width, Height);

    public static TheoryData<string> LosslessFormats => ["png", "bmp", "gif", "webp"];

    private static string Write(TempDirectory dir, string name, byte[] bytes)
    {
        var path = dir.File(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static byte[] EncodeAs(string format) => format switch
    {
        "png" => TestImages.Encode(Rgba, Width, Height, SKEncodedImageFormat.Png),
        "jpg" => TestImages.Encode(Rgba, Width, Height, SKEncodedImageFormat.Jpeg, quality: 100),
        "webp" => TestImages.Encode(Rgba, Width, Height, SKEncodedImageFormat.Webp),
        "bmp" => TestImages.Bmp(Rgba, Width, Height),
        "gif" => TestImages.Gif(Rgba, Width, Height),
        _ => throw new ArgumentOutOfRangeException(nameof(format)),
    };

    [Theory]
    [MemberData(nameof(LosslessFormats))]
    public void Lossless_formats_decode_to_the_exact_pixels(string format)
    {
        using var dir = new TempDirectory();
        var path = Write(dir, "image." + format, EncodeAs(format));

        var image = ImageDecoder.Decode(path, ColorMode.Rgb);

        Assert.Equal(new ImageShape(Height, Width, 3), image.Shape);
        for (var p = 0; p < Width * Height; p++)
        {
            for (var k = 0; k < 3; k++)
            {
                Assert.Equal(Rgba[p * 4 + k] / 255f, image.Pixels[p * 3 + k]);
            }
        }
    }

    [Fact]
    public void Jpeg_decodes_to_within_its_compression_error()
    {
        using var dir = new TempDirectory();
        var path = Write(dir, "image.jpg", EncodeAs("jpg"));

        var image = ImageDecoder.Decode(path, ColorMode.Rgb);

        Assert.Equal(new ImageShape(Height, Width, 3), image.Shape);
        var meanError = Enumerable.Range(0, Width * Height * 3).Average(i => Math.Abs(image.Pixels[i] - Rgba[i / 3 * 4 + i % 3] / 255f));
        Assert.InRange(meanError, 0, 0.05);
    }

    [Fact]
    public void Grayscale_uses_TensorFlows_weights_and_rgba_keeps_alpha()
    {
        using var dir = new TempDirectory();
        var rgba = (byte[])Rgba.Clone();
        rgba[3] = 77; // one translucent pixel
        var path = Write(dir, "image.png", TestImages.Encode(rgba, Width, Height, SKEncodedImageFormat.Png));

        var gray = ImageDecoder.Decode(path, ColorMode.Grayscale);
        var withAlpha = ImageDecoder.Decode(path, ColorMode.Rgba);

        Assert.Equal(new ImageShape(Height, Width, 1), gray.Shape);
        for (var p = 0; p < Width * Height; p++)
        {
            var expected = (0.2989 * rgba[4 * p] + 0.5870 * rgba[4 * p + 1] + 0.1140 * rgba[4 * p + 2]) / 255;
            Assert.Equal(expected, gray.Pixels[p], 1e-6);
        }
        Assert.Equal(77 / 255f, withAlpha.Pixels[3]);
        Assert.Equal(rgba[0] / 255f, withAlpha.Pixels[0]);
    }

    [Fact]
    public void A_truncated_image_is_refused_naming_the_file()
    {
        using var dir = new TempDirectory();
        var png = TestImages.Encode(TestImages.Pattern(64, 64), 64, 64, SKEncodedImageFormat.Png);
        var path = Write(dir, "cut.png", png[..(png.Length / 2)]);

        var error = Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode(path, ColorMode.Rgb));

        Assert.Contains(path, error.Message);
        Assert.Contains("truncated", error.Message);
    }

    [Fact]
    public void A_file_cut_inside_its_header_is_refused_naming_the_file()
    {
        using var dir = new TempDirectory();
        var png = EncodeAs("png");
        var path = Write(dir, "stub.png", png[..20]);

        var error = Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode(path, ColorMode.Rgb));

        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void Corrupt_image_data_is_refused_naming_the_file()
    {
        using var dir = new TempDirectory();
        var png = TestImages.Encode(TestImages.Pattern(64, 64), 64, 64, SKEncodedImageFormat.Png);
        // Scramble the compressed pixel data after the header chunks; the file keeps its length.
        for (var i = 60; i < png.Length - 20; i++)
        {
            png[i] ^= 0x5A;
        }
        var path = Write(dir, "scrambled.png", png);

        var error = Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode(path, ColorMode.Rgb));

        Assert.Contains(path, error.Message);
    }

    [Theory]
    [InlineData("notes.png", "this is text, not a picture")]
    [InlineData("empty.jpg", "")]
    public void A_file_that_is_not_an_image_despite_its_name_is_refused_naming_it(string name, string content)
    {
        using var dir = new TempDirectory();
        var path = dir.File(name);
        File.WriteAllText(path, content);

        var error = Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode(path, ColorMode.Rgb));

        Assert.Contains(path, error.Message);
        Assert.Contains("not a PNG, JPEG, BMP, GIF or WebP image", error.Message);
    }

    [Fact]
    public void An_unsupported_format_is_refused_by_name()
    {
        using var dir = new TempDirectory();
        var path = Write(dir, "scan.tiff", [0x49, 0x49, 0x2A, 0x00, 8, 0, 0, 0]);

        var error = Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode(path, ColorMode.Rgb));

        Assert.Contains(path, error.Message);
        Assert.Contains("not supported", error.Message);
    }

    [Fact]
    public void A_decompression_bomb_is_refused_from_its_header_without_allocating_its_size()
    {
        using var dir = new TempDirectory();
        var path = Write(dir, "bomb.png", TestImages.PngClaiming(100_000, 100_000));
        ImageDecoder.Decode(Write(dir, "warm.png", EncodeAs("png")), ColorMode.Rgb); // JIT and SkiaSharp's start-up

        var before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode(path, ColorMode.Rgb));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Contains(path, error.Message);
        Assert.Contains("100000×100000", error.Message);
        Assert.InRange(allocated, 0, 1 << 20);
    }

    [Fact]
    public void The_pixel_limit_is_configurable()
    {
        using var dir = new TempDirectory();
        var path = Write(dir, "image.png", EncodeAs("png"));

        Assert.Equal(Width * Height * 3, ImageDecoder.Decode(path, ColorMode.Rgb, maxPixels: Width * Height).Pixels.Length);
        var error = Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode(path, ColorMode.Rgb, maxPixels: Width * Height - 1));
        Assert.Contains("limit of 47", error.Message);
    }
}

using Kiln;
using SkiaSharp;

namespace Colours;

/// <summary>
/// A colour image folder to try the example on, made from the embedded MNIST digits: each digit is painted in a random
/// ink on a random paper colour (at least half the range apart in brightness, either way round) and written as a
/// 28×28 PNG into one subfolder per digit. Colour carries no information about the class; the shape does.
/// Each file is written to a temporary name and renamed; two writers into one directory would overwrite each other's files.
/// </summary>
public static class ColouredDigits
{
    /// <summary>Writes <paramref name="perClass"/> pictures of each of the digits 0 … <paramref name="classes"/> − 1; the same seed writes the same files.</summary>
    public static void Write(string directory, int classes, int perClass, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(classes, 10);
        ArgumentOutOfRangeException.ThrowIfLessThan(perClass, 1);
        var random = new Random(seed);
        var written = new int[classes];
        foreach (var example in Datasets.Mnist().Train)
        {
            if (example.Label >= classes || written[example.Label] >= perClass)
            {
                continue;
            }
            var folder = Path.Combine(directory, example.Label.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Directory.CreateDirectory(folder);
            var path = Path.Combine(folder, $"{written[example.Label]:0000}.png");
            Kiln.IO.AtomicFile.Write(path, stream => Paint(example.Features, random).SaveTo(stream));
            if (++written[example.Label] == perClass && written.All(n => n == perClass))
            {
                return;
            }
        }
    }

    private static SKData Paint(float[] digit, Random random)
    {
        var (ink, paper) = Colours(random);
        using var bitmap = new SKBitmap(new SKImageInfo(28, 28, SKColorType.Rgba8888, SKAlphaType.Opaque));
        for (var p = 0; p < 784; p++)
        {
            var t = digit[p];
            bitmap.SetPixel(p % 28, p / 28, new SKColor(Mix(paper.Red, ink.Red, t), Mix(paper.Green, ink.Green, t), Mix(paper.Blue, ink.Blue, t)));
        }
        return bitmap.Encode(SKEncodedImageFormat.Png, 100);
    }

    private static (SKColor Ink, SKColor Paper) Colours(Random random)
    {
        while (true)
        {
            var ink = new SKColor((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256));
            var paper = new SKColor((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256));
            if (Math.Abs(Brightness(ink) - Brightness(paper)) >= 128)
            {
                return (ink, paper);
            }
        }
    }

    private static double Brightness(SKColor c) => 0.2989 * c.Red + 0.5870 * c.Green + 0.1140 * c.Blue;

    private static byte Mix(byte from, byte to, float t) => (byte)Math.Clamp(MathF.Round(from + (to - from) * t), 0, 255);
}

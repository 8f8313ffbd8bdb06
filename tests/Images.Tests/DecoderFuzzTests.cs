using System.Diagnostics;
using SkiaSharp;
using Kiln.Tests.IO;

namespace Kiln.Images.Tests;

/// <summary>
/// Mutated PNG, JPEG, GIF, BMP and WebP files: each decodes or throws <see cref="InvalidDataException"/> naming the
/// file, within a time and an allocation bound (the pixel limit caps what a mutated header can claim). A seeded
/// mutator flips, overwrites, inserts, deletes and truncates bytes; KILN_FUZZ_SCALE multiplies the cases.
/// </summary>
public class DecoderFuzzTests
{
    private const long MaxPixels = 1 << 16;

    public static TheoryData<string> Formats => ["png", "jpg", "gif", "bmp", "webp"];

    [Theory]
    [MemberData(nameof(Formats))]
    public void Mutated_images_decode_or_fail_naming_the_file(string format)
    {
        var rgba = TestImages.Pattern(12, 9);
        var valid = format switch
        {
            "png" => TestImages.Encode(rgba, 12, 9, SKEncodedImageFormat.Png),
            "jpg" => TestImages.Encode(rgba, 12, 9, SKEncodedImageFormat.Jpeg, quality: 90),
            "webp" => TestImages.Encode(rgba, 12, 9, SKEncodedImageFormat.Webp),
            "bmp" => TestImages.Bmp(rgba, 12, 9),
            _ => TestImages.Gif(rgba, 12, 9),
        };
        var scale = int.TryParse(Environment.GetEnvironmentVariable("KILN_FUZZ_SCALE"), out var s) && s > 0 ? s : 1;
        var random = new Random(format.GetHashCode(StringComparison.Ordinal) ^ 20261206);
        using var dir = new TempDirectory();
        var (decoded, refused) = (0, 0);
        for (var i = 0; i < 1000 * scale; i++)
        {
            var path = dir.File($"case-{i}.{format}");
            File.WriteAllBytes(path, Mutate(valid, random));
            var before = GC.GetAllocatedBytesForCurrentThread();
            var clock = Stopwatch.StartNew();
            try
            {
                var image = ImageDecoder.Decode(path, ColorMode.Rgb, MaxPixels);
                Assert.True((long)image.Shape.Width * image.Shape.Height <= MaxPixels);
                decoded++;
            }
            catch (InvalidDataException e)
            {
                Assert.Contains(path, e.Message, StringComparison.Ordinal);
                refused++;
            }
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"case {i} took {clock.Elapsed.TotalMilliseconds:0} ms");
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated < 1_000_000 + 32 * MaxPixels, $"case {i} allocated {allocated} bytes");
            File.Delete(path);
        }
        Assert.True(refused > 0, "no mutation was refused: the mutator does nothing");
        Assert.Equal(1000 * scale, decoded + refused);
    }

    private static byte[] Mutate(byte[] valid, Random random)
    {
        var bytes = new List<byte>(valid);
        for (var edits = random.Next(1, 6); edits > 0 && bytes.Count > 0; edits--)
        {
            var at = random.Next(bytes.Count);
            switch (random.Next(5))
            {
                case 0: bytes[at] ^= (byte)(1 << random.Next(8)); break;
                case 1: bytes[at] = (byte)random.Next(256); break;
                case 2: bytes.Insert(at, (byte)random.Next(256)); break;
                case 3: bytes.RemoveAt(at); break;
                default: bytes.RemoveRange(at, bytes.Count - at); break;
            }
        }
        return [.. bytes];
    }
}

using System.Runtime.InteropServices;
using SkiaSharp;

namespace Kiln.Images;

/// <summary>
/// Decodes one PNG, JPEG, BMP, GIF (first frame) or WebP file with SkiaSharp. The header is read first and an image
/// that claims more than the pixel limit is refused before anything of its size is allocated. Every failure is an
/// <see cref="InvalidDataException"/> (or an <see cref="IOException"/> for a file that cannot be read) naming the
/// file. Stateless: safe to call from any number of threads.
/// </summary>
public static class ImageDecoder
{
    /// <summary>The default pixel limit: Pillow's <c>MAX_IMAGE_PIXELS</c> (89,478,485, a 1 GiB RGBA image ÷ 3).</summary>
    public const long DefaultMaxPixels = 89_478_485;

    /// <summary>The extensions decoded (lower case), Keras' list plus WebP.</summary>
    public static IReadOnlyList<string> Extensions { get; } = [".bmp", ".gif", ".jpeg", ".jpg", ".png", ".webp"];

    // Image formats a user may well drop in a folder that Kiln.Images does not decode: refused by name, not skipped.
    internal static readonly string[] UnsupportedExtensions = [".avif", ".heic", ".heif", ".jp2", ".jxl", ".psd", ".svg", ".tif", ".tiff"];

    /// <summary>Decodes <paramref name="path"/> to <paramref name="mode"/>'s channels at the image's own size.</summary>
    public static DecodedImage Decode(string path, ColorMode mode, long maxPixels = DefaultMaxPixels)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPixels, 1);
        var extension = Path.GetExtension(path).ToLowerInvariant();
        if (UnsupportedExtensions.Contains(extension))
        {
            throw new InvalidDataException($"'{path}': {extension} images are not supported; Kiln.Images decodes {string.Join(", ", Extensions)}.");
        }
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"There is no image file '{path}'.", path);
        }
        if (new FileInfo(path).Length == 0)
        {
            throw new InvalidDataException($"'{path}' is empty (0 bytes): not a PNG, JPEG, BMP, GIF or WebP image.");
        }
        using var codec = SKCodec.Create(path, out var opened)
            ?? throw new InvalidDataException(opened switch
            {
                SKCodecResult.IncompleteInput => $"'{path}' is truncated: it ends inside the image's header.",
                // SkiaSharp says Unimplemented when no decoder recognises the content: text, or a format it lacks.
                SKCodecResult.Unimplemented => $"'{path}' is not a PNG, JPEG, BMP, GIF or WebP image: its content matches none of these formats, whatever its name says.",
                _ => $"'{path}' is not a PNG, JPEG, BMP, GIF or WebP image, or its header is corrupt ({opened}).",
            });
        var (width, height) = (codec.Info.Width, codec.Info.Height);
        var pixels = (long)width * height;
        if (width < 1 || height < 1 || pixels > maxPixels || pixels * 4 > Array.MaxLength)
        {
            throw new InvalidDataException(
                $"'{path}' claims {width}×{height} = {pixels:N0} pixels, more than the limit of {maxPixels:N0}; refused before decoding (raise the pixel limit if the image is genuine).");
        }
        var rgba = new byte[pixels * 4];
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var handle = GCHandle.Alloc(rgba, GCHandleType.Pinned);
        SKCodecResult decoded;
        try
        {
            decoded = codec.GetPixels(info, handle.AddrOfPinnedObject());
        }
        finally
        {
            handle.Free();
        }
        if (decoded != SKCodecResult.Success)
        {
            throw new InvalidDataException(decoded == SKCodecResult.IncompleteInput
                ? $"'{path}' is truncated: its {codec.EncodedFormat} data ends before the {width}×{height} image is complete."
                : $"'{path}' is corrupt: its {codec.EncodedFormat} data cannot be decoded ({decoded}).");
        }
        return new DecodedImage(ToFloats(rgba, mode), new ImageShape(height, width, Channels(mode)));
    }

    internal static int Channels(ColorMode mode) => mode switch
    {
        ColorMode.Grayscale => 1,
        ColorMode.Rgb => 3,
        ColorMode.Rgba => 4,
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown colour mode."),
    };

    private static float[] ToFloats(byte[] rgba, ColorMode mode)
    {
        var count = rgba.Length / 4;
        var channels = Channels(mode);
        var result = new float[count * channels];
        for (var p = 0; p < count; p++)
        {
            var (r, g, b, a) = (rgba[4 * p], rgba[4 * p + 1], rgba[4 * p + 2], rgba[4 * p + 3]);
            switch (mode)
            {
                case ColorMode.Grayscale:
                    result[p] = (0.2989f * r + 0.5870f * g + 0.1140f * b) / 255f;
                    break;
                default:
                    result[p * channels] = r / 255f;
                    result[p * channels + 1] = g / 255f;
                    result[p * channels + 2] = b / 255f;
                    if (channels == 4)
                    {
                        result[p * channels + 3] = a / 255f;
                    }
                    break;
            }
        }
        return result;
    }
}

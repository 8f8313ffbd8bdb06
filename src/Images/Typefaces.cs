using SkiaSharp;

namespace Kiln.Images;

/// <summary>
/// A typeface with glyphs for text in pictures. SkiaSharp's self-contained Linux build has no fontconfig, and where
/// it finds no font its default typeface silently draws nothing, so the usual DejaVu files are tried after it.
/// Safe to use from any thread.
/// </summary>
internal static class Typefaces
{
    private static readonly string[] FontFiles =
    [
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/TTF/DejaVuSans.ttf",
    ];

    private static readonly Lazy<SKTypeface?> Found = new(Find);

    /// <summary>A typeface that has glyphs, or null when none was found (pictures are then drawn without text).</summary>
    public static SKTypeface? Text => Found.Value;

    private static SKTypeface? Find()
    {
        if (SKTypeface.Default.GlyphCount > 0)
        {
            return SKTypeface.Default;
        }
        foreach (var path in FontFiles.Where(File.Exists))
        {
            if (SKTypeface.FromFile(path) is { GlyphCount: > 0 } typeface)
            {
                return typeface;
            }
        }
        return null;
    }
}

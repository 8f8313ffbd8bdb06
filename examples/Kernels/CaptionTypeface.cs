using SkiaSharp;

namespace Kiln.Examples;

/// <summary>
/// The typeface for picture captions. SkiaSharp's self-contained Linux build (NativeAssets.Linux.NoDependencies)
/// has no fontconfig; where it finds no font, its default typeface has no glyphs and silently draws nothing.
/// </summary>
internal static class CaptionTypeface
{
    private static readonly string[] FontFiles =
    [
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/TTF/DejaVuSans.ttf",
    ];

    /// <summary>A typeface that has glyphs, or null when none was found: then pictures go without captions, and a note says so.</summary>
    public static SKTypeface? Value { get; } = Find();

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
        Console.Error.WriteLine($"note: no usable font (tried the default typeface and {string.Join(", ", FontFiles)}), so the PNGs are drawn without text.");
        return null;
    }
}

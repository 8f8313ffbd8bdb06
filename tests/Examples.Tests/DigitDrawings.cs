using SkiaSharp;

namespace Examples.Tests;

/// <summary>
/// Draws the handwritten-looking digits shipped in examples/Mnist/pictures: pen strokes on paper, rendered with
/// SkiaSharp so that their provenance is this file. <c>KILN_UPDATE_PICTURES=1</c> rewrites the PNGs.
/// </summary>
internal static class DigitDrawings
{
    public static readonly string Folder = Path.Combine(RepoRoot(), "examples", "Mnist", "pictures");

    /// <summary>The file name, the digit it shows, and how to draw it.</summary>
    public static readonly (string Name, int Digit, Func<SKBitmap> Draw)[] All =
    [
        ("seven.png", 7, Seven),
        ("four.png", 4, Four),
    ];

    // A dark-grey 7 on white paper that darkens slightly to the right, off-centre in a portrait frame.
    private static SKBitmap Seven() => Draw(120, 150, new SKColor(250, 250, 246), new SKColor(235, 235, 230), new SKColor(40, 40, 48), 11, path =>
    {
        path.MoveTo(24, 30);
        path.LineTo(84, 26);
        path.QuadTo(60, 70, 46, 120);
    });

    // A blue-ink 4 on pale yellow paper, in a landscape frame.
    private static SKBitmap Four() => Draw(200, 160, new SKColor(252, 248, 220), new SKColor(246, 240, 205), new SKColor(30, 50, 160), 13, path =>
    {
        path.MoveTo(112, 28);
        path.LineTo(70, 96);
        path.LineTo(136, 96);
        path.MoveTo(118, 60);
        path.LineTo(116, 134);
    });

    private static SKBitmap Draw(int width, int height, SKColor paper, SKColor shade, SKColor ink, float pen, Action<SKPath> strokes)
    {
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        using var canvas = new SKCanvas(bitmap);
        using var paperPaint = new SKPaint { Shader = SKShader.CreateLinearGradient(new SKPoint(0, 0), new SKPoint(width, 0), [paper, shade], SKShaderTileMode.Clamp) };
        canvas.DrawRect(0, 0, width, height, paperPaint);
        using var path = new SKPath();
        strokes(path);
        using var penPaint = new SKPaint
        {
            Color = ink,
            IsAntialias = true,
            Style = SKPaintStyle.Stroke,
            StrokeWidth = pen,
            StrokeCap = SKStrokeCap.Round,
            StrokeJoin = SKStrokeJoin.Round,
        };
        canvas.DrawPath(path, penPaint);
        return bitmap;
    }

    private static string RepoRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Dsl.sln")))
        {
            directory = directory.Parent;
        }
        return directory?.FullName ?? throw new InvalidOperationException($"No Dsl.sln above {AppContext.BaseDirectory}.");
    }
}

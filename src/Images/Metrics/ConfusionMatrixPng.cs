using System.Globalization;
using Kiln.IO;
using SkiaSharp;

namespace Kiln.Images;

/// <summary>
/// Draws a <see cref="ConfusionMatrix"/> as a PNG heat map, as scikit-learn's <c>ConfusionMatrixDisplay</c> shows
/// one: rows are true classes, columns predictions, each cell shaded from white (0) to dark blue (the largest count)
/// with its count written in it (white on dark cells), class names along both axes. Stateless: safe to call from
/// any thread.
/// </summary>
public static class ConfusionMatrixPng
{
    /// <summary>The darkest shade, for the largest count (matplotlib's "Blues" at 1).</summary>
    internal static readonly SKColor Darkest = new(8, 48, 107);

    /// <summary>
    /// Writes the heat map to <paramref name="path"/> as a PNG with <paramref name="cellSize"/>-pixel cells, through a
    /// temporary file renamed over the target, so a reader never sees half a picture.
    /// </summary>
    public static void SavePng(this ConfusionMatrix matrix, string path, int cellSize = 48)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var png = matrix.ToPng(cellSize);
        AtomicFile.Write(path, stream => stream.Write(png));
    }

    /// <summary>The heat map as PNG bytes.</summary>
    public static byte[] ToPng(this ConfusionMatrix matrix, int cellSize = 48)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        // Room for a five-digit count at the font size; larger cells are free.
        ArgumentOutOfRangeException.ThrowIfLessThan(cellSize, 24);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(cellSize, 512);
        using var font = Typefaces.Text is { } typeface ? new SKFont(typeface, HeatMapLayout.FontSize) : null;
        var layout = HeatMapLayout.For(matrix, cellSize, font);
        if ((long)layout.Width * layout.Height > 1 << 28)
        {
            throw new ArgumentException($"A heat map of {matrix.Classes} classes with {cellSize}-pixel cells would be {layout.Width} × {layout.Height} pixels; use smaller cells.", nameof(cellSize));
        }
        using var surface = SKSurface.Create(new SKImageInfo(layout.Width, layout.Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        DrawCells(canvas, matrix, layout, font);
        if (font is not null)
        {
            DrawNames(canvas, matrix, layout, font);
        }
        using var image = surface.Snapshot();
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>The shade of a count: white at 0, <see cref="Darkest"/> at <paramref name="largest"/>, linear between.</summary>
    internal static SKColor Shade(long count, long largest)
    {
        var t = largest == 0 ? 0 : (double)count / largest;
        return new SKColor(Mix(255, Darkest.Red, t), Mix(255, Darkest.Green, t), Mix(255, Darkest.Blue, t));
    }

    private static byte Mix(byte from, byte to, double t) => (byte)Math.Round(from + (to - from) * t);

    private static void DrawCells(SKCanvas canvas, ConfusionMatrix matrix, HeatMapLayout layout, SKFont? font)
    {
        var largest = 0L;
        for (var a = 0; a < matrix.Classes; a++)
        {
            for (var p = 0; p < matrix.Classes; p++)
            {
                largest = Math.Max(largest, matrix[a, p]);
            }
        }
        using var fill = new SKPaint { IsAntialias = false };
        using var ink = new SKPaint { IsAntialias = true };
        for (var a = 0; a < matrix.Classes; a++)
        {
            for (var p = 0; p < matrix.Classes; p++)
            {
                var count = matrix[a, p];
                var rect = layout.CellRect(a, p);
                fill.Color = Shade(count, largest);
                canvas.DrawRect(rect, fill);
                if (font is not null)
                {
                    // scikit-learn's rule: light text on the darker half of the scale.
                    ink.Color = largest > 0 && count * 2 > largest ? SKColors.White : SKColors.Black;
                    var text = count.ToString(CultureInfo.InvariantCulture);
                    canvas.DrawText(text, rect.MidX, rect.MidY + font.Size / 3, SKTextAlign.Center, font, ink);
                }
            }
        }
    }

    private static void DrawNames(SKCanvas canvas, ConfusionMatrix matrix, HeatMapLayout layout, SKFont font)
    {
        using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        var baseline = -font.Metrics.Ascent;
        var grid = matrix.Classes * layout.Cell;
        canvas.DrawText("predicted", layout.Left + grid / 2f, 8 + baseline, SKTextAlign.Center, font, ink);
        for (var c = 0; c < matrix.Classes; c++)
        {
            var row = layout.CellRect(c, 0);
            canvas.DrawText(matrix.ClassNames[c], layout.Left - 8, row.MidY + font.Size / 3, SKTextAlign.Right, font, ink);
            // Column names read upwards from just above their column.
            var column = layout.CellRect(0, c);
            Turned(canvas, column.MidX + font.Size / 3, layout.Top - 8, () => canvas.DrawText(matrix.ClassNames[c], 0, 0, SKTextAlign.Left, font, ink));
        }
        Turned(canvas, 8 + baseline, layout.Top + grid / 2f, () => canvas.DrawText("true", 0, 0, SKTextAlign.Center, font, ink));
    }

    // Draws with the origin at (x, y) and the text's direction pointing up the picture.
    private static void Turned(SKCanvas canvas, float x, float y, Action draw)
    {
        canvas.Save();
        canvas.Translate(x, y);
        canvas.RotateDegrees(-90);
        draw();
        canvas.Restore();
    }
}

using System.Globalization;
using Kiln;
using Kiln.Examples;
using SkiaSharp;

namespace Mnist;

/// <summary>PNG output: a grid of the showcase images with their predictions, and the training curves.</summary>
internal static class Pictures
{
    private const int Scale = 4;
    private const int Cell = 28 * Scale;
    private const int Caption = 22;

    public static void SaveGrid(string path, IReadOnlyList<ShowcaseImage> images, IReadOnlyList<float[]> probabilities)
    {
        const int columns = 7;
        var rows = (images.Count + columns - 1) / columns;
        using var surface = SKSurface.Create(new SKImageInfo(columns * (Cell + 8), rows * (Cell + Caption + 8)));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using var font = CaptionTypeface.Value is { } typeface ? new SKFont(typeface, 14) : null;
        using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        for (var i = 0; i < images.Count; i++)
        {
            var x = i % columns * (Cell + 8) + 4;
            var y = i / columns * (Cell + Caption + 8) + 4;
            using var bitmap = new SKBitmap(28, 28, SKColorType.Gray8, SKAlphaType.Opaque);
            var pixels = images[i].Pixels;
            for (var p = 0; p < 784; p++)
            {
                var v = (byte)Math.Clamp(MathF.Round(pixels[p] * 255f), 0, 255);
                bitmap.SetPixel(p % 28, p / 28, new SKColor(v, v, v));
            }
            using var image = SKImage.FromBitmap(bitmap);
            canvas.DrawImage(image, SKRect.Create(x, y, Cell, Cell), new SKSamplingOptions(SKFilterMode.Nearest));
            var best = Array.IndexOf(probabilities[i], probabilities[i].Max());
            if (font is not null)
            {
                // "true → predicted (confidence)", red when wrong; noise has no true label.
                var truth = images[i].Label?.ToString(CultureInfo.InvariantCulture) ?? "?";
                ink.Color = images[i].Label is { } label && label != best ? SKColors.Red : SKColors.Black;
                canvas.DrawText($"{truth} → {best} ({probabilities[i][best] * 100:0}%)", x, y + Cell + 16, font, ink);
            }
        }
        using var png = surface.Snapshot().Encode(SKEncodedImageFormat.Png, 100);
        WriteAtomically(path, png.ToArray());
    }

    public static void SaveCurves(string path, History history)
    {
        var plot = new ScottPlot.Plot();
        double[] epochs = [.. history.Epochs.Select(e => (double)e.Epoch)];
        plot.Add.Scatter(epochs, [.. history.Loss]).LegendText = "loss";
        plot.Add.Scatter(epochs, [.. history.Accuracy]).LegendText = "accuracy";
        if (history.ValidationLoss.All(v => v is not null))
        {
            plot.Add.Scatter(epochs, [.. history.ValidationLoss.Select(v => v!.Value)]).LegendText = "val_loss";
            plot.Add.Scatter(epochs, [.. history.ValidationAccuracy.Select(v => v!.Value)]).LegendText = "val_accuracy";
        }
        plot.Title("MNIST CNN training");
        plot.XLabel("epoch");
        // Whole epochs only: the default ticks put points at 0.2, 0.4, … between them.
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericFixedInterval(1);
        // Loss ends low and accuracy high, so the right-hand middle stays clear of the lines.
        plot.ShowLegend(ScottPlot.Alignment.MiddleRight);
        WriteAtomically(path, plot.GetImageBytes(800, 500, ScottPlot.ImageFormat.Png));
    }

    private static void WriteAtomically(string path, byte[] bytes) => Kiln.IO.AtomicFile.Write(path, stream => stream.Write(bytes));
}

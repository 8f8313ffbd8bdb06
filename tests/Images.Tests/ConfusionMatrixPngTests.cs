using Kiln.Tests.IO;
using SkiaSharp;

namespace Kiln.Images.Tests;

/// <summary>The heat map, decoded back: its size, each cell's shade against its count, the counts and names written in.</summary>
public class ConfusionMatrixPngTests
{
    private static readonly string[] Names = ["cat", "dog", "a much longer name"];

    // counts[true, predicted]: every cell different, the largest off the first row, two zeros.
    private static readonly int[,] Counts = { { 30, 4, 0 }, { 2, 57, 9 }, { 0, 11, 21 } };

    private static ConfusionMatrix Matrix()
    {
        List<int> labels = [], predictions = [];
        for (var a = 0; a < 3; a++)
        {
            for (var p = 0; p < 3; p++)
            {
                labels.AddRange(Enumerable.Repeat(a, Counts[a, p]));
                predictions.AddRange(Enumerable.Repeat(p, Counts[a, p]));
            }
        }
        return new ConfusionMatrix([.. labels], [.. predictions], 3, Names);
    }

    private static SKBitmap Draw(ConfusionMatrix matrix, int cell, out HeatMapLayout layout)
    {
        using var dir = new TempDirectory();
        var path = dir.File("matrix.png");
        matrix.SavePng(path, cell);
        Assert.Equal(["matrix.png"], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
        using var font = Typefaces.Text is { } typeface ? new SKFont(typeface, HeatMapLayout.FontSize) : null;
        layout = HeatMapLayout.For(matrix, cell, font);
        return SKBitmap.Decode(path) ?? throw new InvalidDataException("the PNG does not decode");
    }

    private static double Luminance(SKColor c) => 0.2126 * c.Red + 0.7152 * c.Green + 0.0722 * c.Blue;

    [Fact]
    public void The_picture_holds_a_square_cell_per_pair_below_and_right_of_the_names()
    {
        using var bitmap = Draw(Matrix(), 40, out var layout);

        Assert.Equal(layout.Width, bitmap.Width);
        Assert.Equal(layout.Height, bitmap.Height);
        Assert.True(bitmap.Width >= layout.Left + 3 * 40 && bitmap.Height >= layout.Top + 3 * 40, $"{bitmap.Width} × {bitmap.Height}");
        if (Typefaces.Text is not null)
        {
            // The longest name fits in the margin, so the margin is wider than a cell.
            Assert.True(layout.Left > 40 && layout.Top > 40, $"margins {layout.Left}, {layout.Top}");
        }
    }

    [Fact]
    public void Shades_darken_with_the_count_the_darkest_being_the_largest_and_zeros_white()
    {
        using var bitmap = Draw(Matrix(), 40, out var layout);

        // A corner of each cell, clear of its centred count.
        var shades = new List<(int Count, SKColor Colour)>();
        for (var a = 0; a < 3; a++)
        {
            for (var p = 0; p < 3; p++)
            {
                var rect = layout.CellRect(a, p);
                shades.Add((Counts[a, p], bitmap.GetPixel(rect.Left + 2, rect.Top + 2)));
            }
        }
        var darkest = shades.MinBy(s => Luminance(s.Colour));
        Assert.Equal(57, darkest.Count);
        Assert.All(shades.Where(s => s.Count == 0), s => Assert.Equal(SKColors.White, s.Colour));
        var byCount = shades.OrderBy(s => s.Count).ToList();
        for (var i = 1; i < byCount.Count; i++)
        {
            if (byCount[i].Count > byCount[i - 1].Count)
            {
                Assert.True(Luminance(byCount[i].Colour) < Luminance(byCount[i - 1].Colour),
                    $"count {byCount[i].Count} is shaded {byCount[i].Colour}, no darker than count {byCount[i - 1].Count}'s {byCount[i - 1].Colour}");
            }
        }
        // Blue: the blue channel stays the largest as the shade darkens.
        Assert.True(darkest.Colour.Blue > darkest.Colour.Red && darkest.Colour.Blue > darkest.Colour.Green, darkest.Colour.ToString());
    }

    [FontFact]
    public void Every_cell_has_its_count_written_light_on_dark_and_dark_on_light_and_the_names_are_drawn()
    {
        using var bitmap = Draw(Matrix(), 40, out var layout);

        for (var a = 0; a < 3; a++)
        {
            for (var p = 0; p < 3; p++)
            {
                var rect = layout.CellRect(a, p);
                var fill = bitmap.GetPixel(rect.Left + 2, rect.Top + 2);
                var pixels = Pixels(bitmap, SKRectI.Inflate(rect, -4, -4)).ToList();
                var text = pixels.Where(c => c != fill).ToList();
                Assert.True(text.Count > 10, $"cell ({a}, {p}) holding {Counts[a, p]} has {text.Count} pixels of text");
                // The text's extreme pixel: white on the largest count, near black on a zero.
                var extreme = Counts[a, p] * 2 > 57 ? text.Max(Luminance) : -text.Min(Luminance);
                Assert.True(Counts[a, p] * 2 > 57 ? extreme > 200 : extreme > -60, $"cell ({a}, {p}): text luminance {Math.Abs(extreme):0}");
            }
        }
        // Each row's name sits in the left margin at the row's height; each column's above the column.
        for (var c = 0; c < 3; c++)
        {
            var row = layout.CellRect(c, 0);
            Assert.Contains(Pixels(bitmap, new SKRectI(0, row.Top, layout.Left, row.Bottom)), px => Luminance(px) < 100);
            var column = layout.CellRect(0, c);
            Assert.Contains(Pixels(bitmap, new SKRectI(column.Left, 0, column.Right, layout.Top)), px => Luminance(px) < 100);
        }
    }

    [Fact]
    public void A_matrix_of_zeros_is_all_white_cells_and_bad_cell_sizes_are_refused()
    {
        var empty = new ConfusionMatrix([], [], 2);
        using var bitmap = SKBitmap.Decode(empty.ToPng(30));
        using var font = Typefaces.Text is { } typeface ? new SKFont(typeface, HeatMapLayout.FontSize) : null;
        var layout = HeatMapLayout.For(empty, 30, font);
        Assert.All(Enumerable.Range(0, 4), i => Assert.Equal(SKColors.White, bitmap.GetPixel(layout.CellRect(i / 2, i % 2).Left + 2, layout.CellRect(i / 2, i % 2).Top + 2)));

        Assert.Equal("cellSize", Assert.Throws<ArgumentOutOfRangeException>(() => Matrix().ToPng(10)).ParamName);
        Assert.Equal("cellSize", Assert.Throws<ArgumentOutOfRangeException>(() => Matrix().ToPng(1000)).ParamName);
    }

    private static IEnumerable<SKColor> Pixels(SKBitmap bitmap, SKRectI rect)
    {
        for (var y = rect.Top; y < rect.Bottom; y++)
        {
            for (var x = rect.Left; x < rect.Right; x++)
            {
                yield return bitmap.GetPixel(x, y);
            }
        }
    }
}

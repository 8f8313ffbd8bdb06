using SkiaSharp;

namespace Kiln.Images;

/// <summary>
/// Where a confusion matrix's heat map puts things: class names down the left (true classes) and along the top
/// (predictions) with an axis title each, then one square cell per (true, predicted) pair, row-major from
/// (<see cref="Left"/>, <see cref="Top"/>).
/// </summary>
internal sealed record HeatMapLayout(int Left, int Top, int Cell, int Width, int Height)
{
    public const float FontSize = 14;
    private const int Padding = 8;

    public static HeatMapLayout For(ConfusionMatrix matrix, int cell, SKFont? font)
    {
        // Names are measured when there is a font to draw them; without one the margins only hold the padding.
        var name = font is null ? 0 : (int)MathF.Ceiling(matrix.ClassNames.Max(n => font.MeasureText(n)));
        var line = font is null ? 0 : (int)MathF.Ceiling(font.Spacing);
        var left = Padding + line + Padding + name + Padding;
        var top = Padding + line + Padding + name + Padding;
        var grid = matrix.Classes * cell;
        return new(left, top, cell, left + grid + Padding, top + grid + Padding);
    }

    /// <summary>The rectangle of cell (<paramref name="actual"/>, <paramref name="predicted"/>).</summary>
    public SKRectI CellRect(int actual, int predicted) =>
        SKRectI.Create(Left + predicted * Cell, Top + actual * Cell, Cell, Cell);
}

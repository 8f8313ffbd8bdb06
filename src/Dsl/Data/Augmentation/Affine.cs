namespace Kiln;

/// <summary>
/// Keras' <c>affine_transform</c> for one channels-last image: output pixel (x, y) reads the input at
/// (a0·x + a1·y + a2, b0·x + b1·y + b2), in pixel-index coordinates (pixel centres at integers), bilinearly or from
/// the nearest pixel; neighbours outside the input come from the fill mode (scipy's <c>map_coordinates</c> with
/// <c>reflect</c>, <c>grid-wrap</c>, <c>nearest</c> or <c>grid-constant</c>, which Keras' NumPy backend uses).
/// </summary>
internal readonly record struct Affine(double A0, double A1, double A2, double B0, double B1, double B2)
{
    /// <summary>Rotation by <paramref name="radians"/> about the image's centre ((w − 1)/2, (h − 1)/2), Keras' matrix.</summary>
    public static Affine Rotation(double radians, int height, int width)
    {
        var (cx, cy) = ((width - 1) / 2.0, (height - 1) / 2.0);
        var (cos, sin) = (Math.Cos(radians), Math.Sin(radians));
        return new(cos, -sin, cx - cx * cos + cy * sin, sin, cos, cy - cx * sin - cy * cos);
    }

    /// <summary>Keras' zoom matrix: input = centre + zoom·(output − centre), so a zoom above 1 shows more of the input (zooms out).</summary>
    public static Affine Zoom(double zoomX, double zoomY, int height, int width) =>
        new(zoomX, 0, (width - 1) / 2.0 * (1 - zoomX), 0, zoomY, (height - 1) / 2.0 * (1 - zoomY));

    /// <summary>Moves the content by (dx, dy) pixels: right and down when positive.</summary>
    public static Affine Translation(double dx, double dy) => new(1, 0, -dx, 0, 1, -dy);

    /// <summary>The map that applies <paramref name="then"/> to the image this map produces: input = this(then(output)).</summary>
    public Affine Then(Affine then) => new(
        A0 * then.A0 + A1 * then.B0, A0 * then.A1 + A1 * then.B1, A0 * then.A2 + A1 * then.B2 + A2,
        B0 * then.A0 + B1 * then.B0, B0 * then.A1 + B1 * then.B1, B0 * then.A2 + B1 * then.B2 + B2);

    public void Apply(ReadOnlySpan<float> input, Span<float> output, ImageShape shape, FillMode fill, Interpolation interpolation, float fillValue)
    {
        var (h, w, c) = (shape.Height, shape.Width, shape.Channels);
        for (var y = 0; y < h; y++)
        {
            for (var x = 0; x < w; x++)
            {
                var sx = A0 * x + A1 * y + A2;
                var sy = B0 * x + B1 * y + B2;
                var o = (y * w + x) * c;
                if (interpolation == Interpolation.Bilinear && sx >= 0 && sx < w - 1 && sy >= 0 && sy < h - 1)
                {
                    // All four neighbours inside (most pixels of a small turn, shift or zoom, so this path sets the cost):
                    // truncation is the floor here, and no fill mode applies.
                    var (ix, iy) = ((int)sx, (int)sy);
                    var (fx, fy) = ((float)(sx - ix), (float)(sy - iy));
                    var i = (iy * w + ix) * c;
                    var below = i + w * c;
                    for (var k = 0; k < c; k++)
                    {
                        var upper = input[i + k] + (input[i + c + k] - input[i + k]) * fx;
                        var lower = input[below + k] + (input[below + c + k] - input[below + k]) * fx;
                        output[o + k] = upper + (lower - upper) * fy;
                    }
                    continue;
                }
                Edge(input, output.Slice(o, c), shape, sx, sy, fill, interpolation, fillValue);
            }
        }
    }

    // A pixel whose neighbours may lie outside the input, or any pixel under nearest-neighbour interpolation.
    private static void Edge(ReadOnlySpan<float> input, Span<float> target, ImageShape shape, double sx, double sy, FillMode fill, Interpolation interpolation, float fillValue)
    {
        if (interpolation == Interpolation.Nearest)
        {
            Read(input, shape, Index(Math.Round(sy, MidpointRounding.ToEven)), Index(Math.Round(sx, MidpointRounding.ToEven)), fill, fillValue, target, 1f, overwrite: true);
            return;
        }
        var x0 = Math.Floor(sx);
        var y0 = Math.Floor(sy);
        var fx = (float)(sx - x0);
        var fy = (float)(sy - y0);
        var (ix, iy) = (Index(x0), Index(y0));
        Read(input, shape, iy, ix, fill, fillValue, target, (1 - fy) * (1 - fx), overwrite: true);
        Read(input, shape, iy, ix + 1, fill, fillValue, target, (1 - fy) * fx, overwrite: false);
        Read(input, shape, iy + 1, ix, fill, fillValue, target, fy * (1 - fx), overwrite: false);
        Read(input, shape, iy + 1, ix + 1, fill, fillValue, target, fy * fx, overwrite: false);
    }

    // Far-away coordinates (a huge zoom) are clamped to where every fill mode still maps them correctly enough.
    private static int Index(double coordinate) => (int)Math.Clamp(coordinate, int.MinValue / 4, int.MaxValue / 4);

    // Adds weight × pixel (row, column) to target, or writes it when overwrite; the fill mode maps indices outside the image.
    private static void Read(ReadOnlySpan<float> input, ImageShape shape, int row, int column, FillMode fill, float fillValue, Span<float> target, float weight, bool overwrite)
    {
        row = Map(row, shape.Height, fill);
        column = Map(column, shape.Width, fill);
        var c = shape.Channels;
        if (row < 0 || column < 0)
        {
            for (var k = 0; k < c; k++)
            {
                target[k] = overwrite ? weight * fillValue : target[k] + weight * fillValue;
            }
            return;
        }
        var source = input.Slice((row * shape.Width + column) * c, c);
        for (var k = 0; k < c; k++)
        {
            target[k] = overwrite ? weight * source[k] : target[k] + weight * source[k];
        }
    }

    /// <summary>An index inside [0, n), or −1 for the constant fill.</summary>
    internal static int Map(int i, int n, FillMode fill)
    {
        if ((uint)i < (uint)n)
        {
            return i;
        }
        switch (fill)
        {
            case FillMode.Constant:
                return -1;
            case FillMode.Nearest:
                return Math.Clamp(i, 0, n - 1);
            case FillMode.Wrap:
                return ((i % n) + n) % n;
            default:
                // Half-sample symmetric: period 2n, and the second half of each period runs backwards.
                var period = 2L * n;
                var m = (int)(((i % period) + period) % period);
                return m < n ? m : (int)(period - 1 - m);
        }
    }
}

namespace Kiln.Images;

/// <summary>
/// Bilinear resizing as <c>tf.image.resize(method="bilinear")</c>, which Keras' image loading uses: half-pixel
/// centres (output pixel o samples the input at (o + ½)·in/out − ½), neighbours clamped to the edge, and no
/// antialiasing (TensorFlow's default), so shrinking by more than 2 skips pixels as TensorFlow does. Stateless:
/// safe to call from any number of threads.
/// </summary>
public static class Resize
{
    /// <summary>Resizes a channels-last image of <paramref name="from"/>'s shape into <paramref name="output"/> of <paramref name="to"/>'s.</summary>
    public static void Bilinear(ReadOnlySpan<float> input, ImageShape from, Span<float> output, ImageShape to)
    {
        if (from.Channels != to.Channels)
        {
            throw new ArgumentException($"Resizing keeps the channels: {from.Channels} in, {to.Channels} out.", nameof(to));
        }
        if (input.Length != from.Size || output.Length != to.Size)
        {
            throw new ArgumentException($"A {from} input has {from.Size} values and a {to} output {to.Size}; got {input.Length} and {output.Length}.");
        }
        var c = to.Channels;
        Span<int> x0 = to.Width <= 1024 ? stackalloc int[to.Width] : new int[to.Width];
        Span<int> x1 = to.Width <= 1024 ? stackalloc int[to.Width] : new int[to.Width];
        Span<float> fx = to.Width <= 1024 ? stackalloc float[to.Width] : new float[to.Width];
        for (var x = 0; x < to.Width; x++)
        {
            (x0[x], x1[x], fx[x]) = Weights(x, from.Width, to.Width);
        }
        for (var y = 0; y < to.Height; y++)
        {
            var (y0, y1, fy) = Weights(y, from.Height, to.Height);
            var top = input.Slice(y0 * from.Width * c, from.Width * c);
            var bottom = input.Slice(y1 * from.Width * c, from.Width * c);
            var row = output.Slice(y * to.Width * c, to.Width * c);
            for (var x = 0; x < to.Width; x++)
            {
                for (var k = 0; k < c; k++)
                {
                    var t = top[x0[x] * c + k] + (top[x1[x] * c + k] - top[x0[x] * c + k]) * fx[x];
                    var b = bottom[x0[x] * c + k] + (bottom[x1[x] * c + k] - bottom[x0[x] * c + k]) * fx[x];
                    row[x * c + k] = t + (b - t) * fy;
                }
            }
        }
    }

    // TensorFlow's compute_interpolation_weights with half-pixel centres: the fraction is taken before clamping.
    private static (int Lower, int Upper, float Fraction) Weights(int o, int inSize, int outSize)
    {
        var position = (o + 0.5) * inSize / outSize - 0.5;
        var floor = Math.Floor(position);
        var lower = (int)Math.Clamp(floor, 0, inSize - 1);
        var upper = (int)Math.Clamp(floor + 1, 0, inSize - 1);
        return (lower, upper, (float)(position - floor));
    }
}

namespace Kiln.Images.Tests;

/// <summary>Resize.Bilinear against a float64 transcription of tf.image.resize's half-pixel bilinear rule.</summary>
public class ResizeTests
{
    [Fact]
    public void Upsampling_a_ramp_gives_TensorFlows_values()
    {
        // tf.image.resize([[0, 1]] as 1×2, (1, 4)) samples x = −0.25, 0.25, 0.75, 1.25, clamped at the edges.
        var output = new float[4];

        Resize.Bilinear([0f, 1f], new ImageShape(1, 2, 1), output, new ImageShape(1, 4, 1));

        Assert.Equal([0f, 0.25f, 0.75f, 1f], output);
    }

    [Fact]
    public void Halving_averages_each_two_by_two_block()
    {
        // Half-pixel centres put each output pixel exactly between four input pixels.
        float[] input = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
        var output = new float[4];

        Resize.Bilinear(input, new ImageShape(4, 4, 1), output, new ImageShape(2, 2, 1));

        Assert.Equal([3.5f, 5.5f, 11.5f, 13.5f], output);
    }

    [Theory]
    [InlineData(28, 28, 1, 28, 28)]
    [InlineData(40, 30, 3, 32, 32)]
    [InlineData(7, 9, 3, 32, 32)]
    [InlineData(100, 61, 1, 28, 28)]
    [InlineData(5, 5, 4, 13, 3)]
    public void Matches_the_float64_reference(int inHeight, int inWidth, int channels, int outHeight, int outWidth)
    {
        var random = new Random(inHeight * 1000 + outWidth);
        var input = Enumerable.Range(0, inHeight * inWidth * channels).Select(_ => (float)random.NextDouble()).ToArray();
        var output = new float[outHeight * outWidth * channels];

        Resize.Bilinear(input, new ImageShape(inHeight, inWidth, channels), output, new ImageShape(outHeight, outWidth, channels));

        var expected = Reference(input, inHeight, inWidth, channels, outHeight, outWidth);
        for (var i = 0; i < output.Length; i++)
        {
            Assert.True(Math.Abs(output[i] - expected[i]) <= 1e-6, $"element {i}: {output[i]} against {expected[i]}");
        }
    }

    [Fact]
    public void Mismatched_lengths_are_refused()
    {
        Assert.Throws<ArgumentException>(() => Resize.Bilinear(new float[5], new ImageShape(2, 2, 1), new float[4], new ImageShape(2, 2, 1)));
        Assert.Throws<ArgumentException>(() => Resize.Bilinear(new float[4], new ImageShape(2, 2, 1), new float[12], new ImageShape(2, 2, 3)));
    }

    private static double[] Reference(float[] input, int inH, int inW, int c, int outH, int outW)
    {
        var output = new double[outH * outW * c];
        for (var y = 0; y < outH; y++)
        {
            var sy = (y + 0.5) * inH / outH - 0.5;
            for (var x = 0; x < outW; x++)
            {
                var sx = (x + 0.5) * inW / outW - 0.5;
                for (var k = 0; k < c; k++)
                {
                    double At(double row, double column) =>
                        input[((int)Math.Clamp(row, 0, inH - 1) * inW + (int)Math.Clamp(column, 0, inW - 1)) * c + k];
                    var (fy, fx) = (sy - Math.Floor(sy), sx - Math.Floor(sx));
                    var (y0, x0) = (Math.Floor(sy), Math.Floor(sx));
                    output[(y * outW + x) * c + k] =
                        (1 - fy) * ((1 - fx) * At(y0, x0) + fx * At(y0, x0 + 1)) + fy * ((1 - fx) * At(y0 + 1, x0) + fx * At(y0 + 1, x0 + 1));
                }
            }
        }
        return output;
    }
}

using Kernels;

namespace Examples.Tests;

/// <summary>examples/Kernels against convolutions worked out by hand.</summary>
public class ImageFiltersTests
{
    // A 4 × 5 ramp that rises by 1 per column and by 5 per row, so a kernel that is flipped (convolution instead
    // of Conv2D's cross-correlation) or transposed gives other numbers. Integers keep every sum exact.
    //    1  2  3  4  5
    //    6  7  8  9 10
    //   11 12 13 14 15
    //   16 17 18 19 20
    private const int Height = 4;
    private const int Width = 5;
    private static readonly float[] Ramp = [.. Enumerable.Range(1, Height * Width).Select(v => (float)v)];

    private static Filter Named(string name) => ImageFilters.Workshop.Single(f => f.Name == name);

    private static float At(float[] image, int y, int x) => image[y * Width + x];

    [Fact]
    public void Sharpen_matches_hand_computed_pixels_with_zeros_beyond_the_border()
    {
        var output = ImageFilters.Apply(Ramp, Height, Width, Named("sharpen"));

        // Interior (1, 1): 5·7 − (2 + 6 + 8 + 12) = 7.
        Assert.Equal(7f, At(output, 1, 1));
        // Top-left corner (0, 0): 5·1 − (0 above + 0 left + 2 right + 6 below) = −3.
        Assert.Equal(-3f, At(output, 0, 0));
        // Top edge (0, 2): 5·3 − (0 above + 2 + 4 + 8 below) = 1.
        Assert.Equal(1f, At(output, 0, 2));
        // Bottom-right corner (3, 4): 5·20 − (15 above + 19 left + 0 + 0) = 66.
        Assert.Equal(66f, At(output, 3, 4));
    }

    [Fact]
    public void Sobel_x_matches_hand_computed_pixels_with_zeros_beyond_the_border()
    {
        // [−1 0 1; −2 0 2; −1 0 1]: positive where the image gets brighter to the right.
        var output = ImageFilters.Apply(Ramp, Height, Width, Named("sobel x"));

        // Interior (1, 1): (3 − 1) + 2·(8 − 6) + (13 − 11) = 8, the ramp's column step times 8.
        Assert.Equal(8f, At(output, 1, 1));
        Assert.Equal(8f, At(output, 2, 3));
        // (0, 0): row above is zero; 2·(2 − 0) + (7 − 0) = 11.
        Assert.Equal(11f, At(output, 0, 0));
        // (3, 4): (0 − 14) + 2·(0 − 19) + row below zero = −52.
        Assert.Equal(-52f, At(output, 3, 4));
        // Left edge (2, 0): (7 − 0) + 2·(12 − 0) + (17 − 0) = 48.
        Assert.Equal(48f, At(output, 2, 0));
    }

    [Fact]
    public void Sobel_y_matches_hand_computed_pixels_with_zeros_beyond_the_border()
    {
        // [−1 −2 −1; 0 0 0; 1 2 1]: positive where the image gets brighter downwards.
        var output = ImageFilters.Apply(Ramp, Height, Width, Named("sobel y"));

        // Interior (1, 1): (11 + 2·12 + 13) − (1 + 2·2 + 3) = 40, the ramp's row step times 8.
        Assert.Equal(40f, At(output, 1, 1));
        // (0, 0): (0 + 2·6 + 7) − 0 = 19.
        Assert.Equal(19f, At(output, 0, 0));
        // (3, 4): 0 − (14 + 2·15 + 0) = −44.
        Assert.Equal(-44f, At(output, 3, 4));
        // Top edge (0, 2): (7 + 2·8 + 9) − 0 = 32.
        Assert.Equal(32f, At(output, 0, 2));
    }

    [Fact]
    public void Every_workshop_filter_matches_a_direct_cross_correlation()
    {
        var random = new Random(3);
        const int h = 7, w = 9;
        var image = Enumerable.Range(0, h * w).Select(_ => (float)random.NextDouble()).ToArray();
        foreach (var filter in ImageFilters.Workshop)
        {
            var output = ImageFilters.Apply(image, h, w, filter);
            for (var y = 0; y < h; y++)
            {
                for (var x = 0; x < w; x++)
                {
                    var expected = 0.0;
                    for (var ky = 0; ky < 3; ky++)
                    {
                        for (var kx = 0; kx < 3; kx++)
                        {
                            int iy = y + ky - 1, ix = x + kx - 1;
                            if (iy is >= 0 and < h && ix is >= 0 and < w)
                            {
                                expected += filter.Weights[ky * 3 + kx] * (double)image[iy * w + ix];
                            }
                        }
                    }
                    Assert.True(Math.Abs(output[y * w + x] - expected) <= 1e-5, $"{filter.Name} at ({y}, {x}): {output[y * w + x]}, expected {expected}");
                }
            }
        }
    }

    [Fact]
    public void Box_blur_keeps_a_flat_interior_and_darkens_the_border()
    {
        var flat = Enumerable.Repeat(0.9f, Height * Width).ToArray();

        var output = ImageFilters.Apply(flat, Height, Width, Named("box blur"));

        Assert.Equal(0.9f, At(output, 1, 1), 1e-6f);
        // Zero padding: a corner averages 4 real pixels and 5 zeros, an edge 6 and 3.
        Assert.Equal(0.9f * 4 / 9, At(output, 0, 0), 1e-6f);
        Assert.Equal(0.9f * 6 / 9, At(output, 0, 2), 1e-6f);
    }

    [Fact]
    public void Display_scaling_clamps_smoothing_responses_and_normalises_edge_magnitudes()
    {
        Assert.Equal([0f, 0.5f, 1f], ImageFilters.ForDisplay([-0.5f, 0.5f, 1.5f], signed: false));
        Assert.Equal([0.25f, 1f, 0f], ImageFilters.ForDisplay([1f, -4f, 0f], signed: true));
        Assert.Equal([0f, 0f], ImageFilters.ForDisplay([0f, 0f], signed: true));
    }

    [Fact]
    public void An_image_of_the_wrong_size_is_rejected()
    {
        var error = Assert.Throws<ArgumentException>(() => ImageFilters.Apply(new float[10], Height, Width, Named("sharpen")));

        Assert.Contains("4×5 image has 20 pixels, but 10", error.Message, StringComparison.Ordinal);
    }
}

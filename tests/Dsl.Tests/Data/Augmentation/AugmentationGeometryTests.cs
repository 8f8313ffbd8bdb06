namespace Kiln.Tests.Data.Augmentation;

/// <summary>Each geometric augmentation against images whose transformed pixels are known exactly.</summary>
public class AugmentationGeometryTests
{
    // Distinct values, so any misplaced pixel shows: pixel (y, x), channel k = 100·y + 10·x + k (scaled into [0, 1)).
    private static float[] Numbered(ImageShape shape)
    {
        var image = new float[shape.Size];
        for (var y = 0; y < shape.Height; y++)
        {
            for (var x = 0; x < shape.Width; x++)
            {
                for (var k = 0; k < shape.Channels; k++)
                {
                    image[(y * shape.Width + x) * shape.Channels + k] = (100 * y + 10 * x + k) / 1000f;
                }
            }
        }
        return image;
    }

    internal static float[] AugmentOne(float[] image, ImageShape shape, ImageAugmentation augmentation, int seed = 0) =>
        AugmentOne(image, shape, [augmentation], seed);

    internal static float[] AugmentOne(float[] image, ImageShape shape, ImageAugmentation[] augmentations, int seed = 0) =>
        Dataset.From([new Example(image)]).Augment(shape, seed, augmentations).Single().Features;

    private static float At(float[] image, ImageShape shape, int y, int x, int k = 0) => image[(y * shape.Width + x) * shape.Channels + k];

    [Theory]
    [InlineData(5, 1)]
    [InlineData(6, 3)]
    public void A_quarter_turn_moves_the_bottom_edge_to_the_right_edge(int size, int channels)
    {
        var shape = new ImageShape(size, size, channels);
        var image = Numbered(shape);

        // factor (0.25, 0.25): exactly +90°, counter-clockwise.
        var rotated = AugmentOne(image, shape, new RandomRotation(0.25, 0.25));

        for (var y = 0; y < size; y++)
        {
            for (var x = 0; x < size; x++)
            {
                for (var k = 0; k < channels; k++)
                {
                    Assert.Equal(At(image, shape, x, size - 1 - y, k), At(rotated, shape, y, x, k), 1e-5);
                }
            }
        }
    }

    [Fact]
    public void Zooming_out_by_100_percent_halves_a_centred_square()
    {
        // A 7×7 square of ones in the middle of 21×21; zoom 2 reads input 10 + 2·(o − 10): ones at o = 9…11 only.
        var shape = new ImageShape(21, 21, 1);
        var image = new float[shape.Size];
        for (var y = 7; y <= 13; y++)
        {
            for (var x = 7; x <= 13; x++)
            {
                image[y * 21 + x] = 1;
            }
        }

        var zoomed = AugmentOne(image, shape, new RandomZoom((1.0, 1.0), fillMode: FillMode.Constant));

        for (var y = 0; y < 21; y++)
        {
            for (var x = 0; x < 21; x++)
            {
                Assert.Equal(y is >= 9 and <= 11 && x is >= 9 and <= 11 ? 1f : 0f, zoomed[y * 21 + x]);
            }
        }
    }

    [Fact]
    public void Zooming_in_by_half_doubles_a_centred_square_with_bilinear_edges()
    {
        // Zoom 0.5 reads input 10 + (o − 10)/2: ones at o = 4…16, half at 3 and 17 (between 0 and 1), zero beyond.
        var shape = new ImageShape(21, 21, 1);
        var image = new float[shape.Size];
        for (var y = 7; y <= 13; y++)
        {
            for (var x = 7; x <= 13; x++)
            {
                image[y * 21 + x] = 1;
            }
        }
        static float Profile(int o) => o is >= 4 and <= 16 ? 1f : o is 3 or 17 ? 0.5f : 0f;

        var zoomed = AugmentOne(image, shape, new RandomZoom((-0.5, -0.5)));

        for (var y = 0; y < 21; y++)
        {
            for (var x = 0; x < 21; x++)
            {
                Assert.Equal(Profile(y) * Profile(x), zoomed[y * 21 + x], 1e-6);
            }
        }
    }

    [Fact]
    public void A_zoom_with_its_own_width_factor_stretches_one_axis()
    {
        var shape = new ImageShape(5, 9, 1);
        var image = Numbered(shape);

        // Height unchanged (zoom 1), width zoom 0.5: column o reads input column 4 + (o − 4)/2.
        var zoomed = AugmentOne(image, shape, new RandomZoom((0.0, 0.0), (-0.5, -0.5)));

        Assert.Equal(At(image, shape, 2, 4), At(zoomed, shape, 2, 4), 1e-6);
        Assert.Equal(At(image, shape, 2, 5), At(zoomed, shape, 2, 6), 1e-6);
        Assert.Equal((At(image, shape, 2, 4) + At(image, shape, 2, 5)) / 2, At(zoomed, shape, 2, 5), 1e-6);
    }

    [Fact]
    public void A_translation_moves_content_down_and_right_and_fills_from_the_fill_mode()
    {
        var shape = new ImageShape(10, 10, 2);
        var image = Numbered(shape);

        // 0.1 of 10 pixels: one row down, two columns right (0.2).
        var constant = AugmentOne(image, shape, new RandomTranslation((0.1, 0.1), (0.2, 0.2), FillMode.Constant, fillValue: 0.5f));
        var reflected = AugmentOne(image, shape, new RandomTranslation((0.1, 0.1), (0.2, 0.2)));
        var wrapped = AugmentOne(image, shape, new RandomTranslation((0.1, 0.1), (0.2, 0.2), FillMode.Wrap));
        var nearest = AugmentOne(image, shape, new RandomTranslation((0.1, 0.1), (0.2, 0.2), FillMode.Nearest));

        Assert.Equal(At(image, shape, 3, 4, 1), At(constant, shape, 4, 6, 1), 1e-6);
        Assert.Equal(0.5f, At(constant, shape, 0, 5));
        Assert.Equal(0.5f, At(constant, shape, 5, 1));
        // Row −1 reflects to row 0, column −2 to column 1, −1 to 0 ("d c b a | a b c d").
        Assert.Equal(At(image, shape, 0, 1), At(reflected, shape, 0, 0), 1e-6);
        Assert.Equal(At(image, shape, 0, 0), At(reflected, shape, 0, 1), 1e-6);
        Assert.Equal(At(image, shape, 9, 8), At(wrapped, shape, 0, 0), 1e-6);
        Assert.Equal(At(image, shape, 0, 0), At(nearest, shape, 0, 1), 1e-6);
    }

    [Fact]
    public void Flips_mirror_the_image_and_both_outcomes_occur()
    {
        var shape = new ImageShape(3, 4, 2);
        var image = Numbered(shape);
        var mirrored = new float[shape.Size];
        for (var y = 0; y < 3; y++)
        {
            for (var x = 0; x < 4; x++)
            {
                for (var k = 0; k < 2; k++)
                {
                    mirrored[(y * 4 + x) * 2 + k] = At(image, shape, y, 3 - x, k);
                }
            }
        }

        var outputs = Dataset.From(Enumerable.Repeat(new Example(image), 64).ToArray())
            .Augment(shape, seed: 3, new RandomFlip(FlipMode.Horizontal)).Select(e => e.Features).ToArray();

        Assert.All(outputs, o => Assert.True(o.SequenceEqual(image) || o.SequenceEqual(mirrored)));
        Assert.InRange(outputs.Count(o => o.SequenceEqual(mirrored)), 16, 48);
    }

    [Fact]
    public void A_vertical_flip_reverses_the_rows()
    {
        var shape = new ImageShape(3, 2, 1);
        var image = Numbered(shape);
        float[] flipped = [At(image, shape, 2, 0), At(image, shape, 2, 1), At(image, shape, 1, 0), At(image, shape, 1, 1), At(image, shape, 0, 0), At(image, shape, 0, 1)];

        var outputs = Dataset.From(Enumerable.Repeat(new Example(image), 32).ToArray())
            .Augment(shape, seed: 5, new RandomFlip(FlipMode.Vertical)).Select(e => e.Features).ToArray();

        Assert.Contains(outputs, o => o.SequenceEqual(flipped));
        Assert.All(outputs, o => Assert.True(o.SequenceEqual(image) || o.SequenceEqual(flipped)));
    }

    [Fact]
    public void Consecutive_geometric_steps_compose_into_the_same_geometry()
    {
        // A quarter turn, a shift of one row and two columns, and a zoom of 1 are exact maps onto whole pixels, so
        // resampling once (composed) and three times (one Augment per step) must agree wherever no fill came in.
        var shape = new ImageShape(9, 9, 2);
        var image = Numbered(shape);
        var turn = new RandomRotation(0.25, 0.25, FillMode.Constant);
        var shift = new RandomTranslation((1 / 9.0, 1 / 9.0), (2 / 9.0, 2 / 9.0), FillMode.Constant);
        var zoom = new RandomZoom((0.0, 0.0), fillMode: FillMode.Constant);

        var composed = AugmentOne(image, shape, [turn, shift, zoom]);
        var stepwise = AugmentOne(AugmentOne(AugmentOne(image, shape, turn), shape, shift), shape, zoom);

        Assert.Equal(stepwise.Length, composed.Length);
        for (var i = 0; i < composed.Length; i++)
        {
            Assert.Equal(stepwise[i], composed[i], 1e-5);
        }
        // The turn came first: the shifted result's pixel (1, 2) holds the turned image's (0, 0), which is input (0, 8).
        Assert.Equal(At(image, shape, 0, 8), At(composed, shape, 1, 2), 1e-5);
    }

    [Fact]
    public void Nearest_interpolation_copies_pixels()
    {
        var shape = new ImageShape(7, 7, 1);
        var image = Numbered(shape);

        var rotated = AugmentOne(image, shape, new RandomRotation(0.1, interpolation: Interpolation.Nearest), seed: 9);

        Assert.All(rotated, v => Assert.Contains(v, image));
    }
}

namespace Kiln.Tests.Data.Augmentation;

/// <summary>Brightness, contrast, noise and blur against what their Keras definitions give.</summary>
public class AugmentationValueTests
{
    private static float[] Random01(int size, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, size).Select(_ => (float)random.NextDouble())];
    }

    [Fact]
    public void Brightness_adds_a_fraction_of_the_value_range_and_clips()
    {
        var shape = new ImageShape(4, 4, 3);
        var image = Random01(shape.Size, 1);

        var brighter = AugmentationGeometryTests.AugmentOne(image, shape, new RandomBrightness((0.2, 0.2)));
        var wide = AugmentationGeometryTests.AugmentOne(image, shape, new RandomBrightness((-0.1, -0.1), valueRange: (0, 2)));

        for (var i = 0; i < image.Length; i++)
        {
            Assert.Equal(Math.Min(image[i] + 0.2f, 1f), brighter[i], 1e-6);
            Assert.Equal(Math.Max(image[i] - 0.2f, 0f), wide[i], 1e-6);
        }
    }

    [Fact]
    public void Contrast_scales_each_channel_about_its_own_mean()
    {
        var shape = new ImageShape(6, 5, 2);
        // Values in [0.4, 0.6], so a factor up to 1.5 never clips.
        var image = Random01(shape.Size, 2).Select(v => 0.4f + v * 0.2f).ToArray();

        var output = AugmentationGeometryTests.AugmentOne(image, shape, new RandomContrast(0.5), seed: 4);

        var means = new double[2];
        for (var i = 0; i < image.Length; i++)
        {
            means[i % 2] += image[i] / 30.0;
        }
        var factor = (output[0] - means[0]) / (image[0] - means[0]);
        Assert.InRange(factor, 0.5, 1.5);
        Assert.NotEqual(1.0, factor, 1e-3);
        for (var i = 0; i < image.Length; i++)
        {
            Assert.Equal((image[i] - means[i % 2]) * factor + means[i % 2], output[i], 1e-5);
        }
    }

    [Fact]
    public void Gaussian_noise_has_the_requested_spread()
    {
        var shape = new ImageShape(100, 100, 1);
        var image = new float[shape.Size];

        var noisy = AugmentationGeometryTests.AugmentOne(image, shape, new GaussianNoise(0.3));

        var mean = noisy.Average();
        var sd = Math.Sqrt(noisy.Average(v => (v - mean) * (v - mean)));
        Assert.InRange(mean, -0.02, 0.02);
        Assert.InRange(sd, 0.29, 0.31);
    }

    [Fact]
    public void The_blur_kernel_is_a_normalised_separable_gaussian()
    {
        var kernel = RandomGaussianBlur.Kernel(5, 1.0, 2.0);

        Assert.Equal(1.0, kernel.Sum(), 1e-6);
        // Row i, column j ∝ exp(−(i−2)²/2) · exp(−(j−2)²/8).
        Assert.Equal(Math.Exp(-0.5) / Math.Exp(-0.125), kernel[1 * 5 + 2] / kernel[2 * 5 + 1], 1e-5);
        Assert.Equal(kernel[0], kernel[24]);
    }

    [Fact]
    public void The_blur_matches_a_float64_convolution_with_zeros_beyond_the_border()
    {
        var shape = new ImageShape(9, 7, 3);
        var image = Random01(shape.Size, 3);
        var kernel = RandomGaussianBlur.Kernel(5, 0.8, 1.3);
        var blurred = (float[])image.Clone();

        RandomGaussianBlur.Blur(blurred, shape, kernel);

        for (var y = 0; y < 9; y++)
        {
            for (var x = 0; x < 7; x++)
            {
                for (var k = 0; k < 3; k++)
                {
                    var sum = 0.0;
                    for (var i = 0; i < 5; i++)
                    {
                        for (var j = 0; j < 5; j++)
                        {
                            var (sy, sx) = (y + i - 2, x + j - 2);
                            if (sy is >= 0 and < 9 && sx is >= 0 and < 7)
                            {
                                sum += (double)kernel[i * 5 + j] * image[(sy * 7 + sx) * 3 + k];
                            }
                        }
                    }
                    Assert.Equal(sum, blurred[(y * 7 + x) * 3 + k], 1e-5);
                }
            }
        }
    }

    [Fact]
    public void The_random_blur_applies_with_its_probability()
    {
        var shape = new ImageShape(8, 8, 1);
        var image = Random01(shape.Size, 4);
        var examples = Enumerable.Repeat(new Example(image), 200).ToArray();

        var always = Dataset.From(examples).Augment(shape, 1, new RandomGaussianBlur((1, 1), 3, (0.5, 1.0))).ToArray();
        var never = Dataset.From(examples).Augment(shape, 1, new RandomGaussianBlur((0, 0), 3, (0.5, 1.0))).ToArray();
        var half = Dataset.From(examples).Augment(shape, 1, new RandomGaussianBlur((0.5, 0.5), 3, (0.5, 1.0))).ToArray();

        Assert.All(always, e => Assert.False(e.Features.SequenceEqual(image)));
        Assert.All(never, e => Assert.True(e.Features.SequenceEqual(image)));
        Assert.InRange(half.Count(e => e.Features.SequenceEqual(image)), 70, 130);
    }

    [Fact]
    public void Out_of_range_factors_are_refused_by_name()
    {
        Assert.Equal("factor", Assert.Throws<ArgumentOutOfRangeException>(() => new RandomBrightness(1.5)).ParamName);
        Assert.Equal("factor", Assert.Throws<ArgumentOutOfRangeException>(() => new RandomContrast(-0.1)).ParamName);
        Assert.Equal("heightFactor", Assert.Throws<ArgumentOutOfRangeException>(() => new RandomTranslation(1.2, 0)).ParamName);
        Assert.Equal("heightFactor", Assert.Throws<ArgumentOutOfRangeException>(() => new RandomZoom((-1.5, 0.0))).ParamName);
        Assert.Equal("kernelSize", Assert.Throws<ArgumentOutOfRangeException>(() => new RandomGaussianBlur(kernelSize: 4)).ParamName);
        Assert.Equal("stddev", Assert.Throws<ArgumentOutOfRangeException>(() => new GaussianNoise(-1)).ParamName);
        Assert.Throws<ArgumentException>(() => new RandomRotation(0.3, 0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RandomRotation(double.NaN));
    }
}

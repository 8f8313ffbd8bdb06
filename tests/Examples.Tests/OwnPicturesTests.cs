using Kiln;
using Kiln.Images;
using Mnist;
using SkiaSharp;

namespace Examples.Tests;

/// <summary>examples/Mnist --predict: the shipped pictures, their preparation as MNIST digits, and the prediction.</summary>
public class OwnPicturesTests
{
    [Fact]
    public void The_shipped_pictures_are_what_DigitDrawings_draws()
    {
        foreach (var (name, _, draw) in DigitDrawings.All)
        {
            var path = Path.Combine(DigitDrawings.Folder, name);
            using var drawn = draw();
            if (Environment.GetEnvironmentVariable("KILN_UPDATE_PICTURES") == "1")
            {
                using var data = drawn.Encode(SKEncodedImageFormat.Png, 100);
                File.WriteAllBytes(path, data.ToArray());
            }
            var shipped = ImageDecoder.Decode(path, ColorMode.Rgba);
            Assert.Equal(new ImageShape(drawn.Height, drawn.Width, 4), shipped.Shape);
            for (var y = 0; y < drawn.Height; y++)
            {
                for (var x = 0; x < drawn.Width; x++)
                {
                    var colour = drawn.GetPixel(x, y);
                    var p = (y * drawn.Width + x) * 4;
                    Assert.True(Math.Abs(shipped.Pixels[p] * 255 - colour.Red) <= 1, $"{name} ({x}, {y}): red {shipped.Pixels[p] * 255} against {colour.Red}");
                }
            }
        }
    }

    [Theory]
    [InlineData("seven.png")]
    [InlineData("four.png")]
    public void A_picture_becomes_a_centred_white_on_black_digit_in_a_20_pixel_box(string name)
    {
        var digit = DigitPicture.Load(Path.Combine(DigitDrawings.Folder, name));

        Assert.Equal(784, digit.Length);
        Assert.InRange(digit.Max(), 0.9f, 1f);
        Assert.All(digit, v => Assert.InRange(v, 0f, 1f));
        var (top, left, bottom, right) = DigitPicture.BoundingBox(digit, 28, 28);
        Assert.Equal(20, Math.Max(bottom - top + 1, right - left + 1));
        var (y, x) = DigitPicture.CentreOfMass(digit, 28, 28);
        Assert.InRange(y, 13.5, 14.5);
        Assert.InRange(x, 13.5, 14.5);
        // The paper is black: the frame's corners and edges carry no ink.
        Assert.Equal(0f, digit[0]);
        Assert.Equal(0f, digit[783]);
    }

    [Fact]
    public void Light_and_dark_paper_give_the_same_digit()
    {
        var path = Path.Combine(DigitDrawings.Folder, "seven.png");
        var picture = ImageDecoder.Decode(path, ColorMode.Rgba);
        var negative = picture with { Pixels = [.. picture.Pixels.Select((v, i) => i % 4 == 3 ? v : 1 - v)] };

        var fromLight = DigitPicture.Prepare(picture, "light");
        var fromDark = DigitPicture.Prepare(negative, "dark");

        Assert.True(fromLight.Zip(fromDark).All(pair => Math.Abs(pair.First - pair.Second) < 0.02f));
    }

    [Fact]
    public void A_transparent_background_counts_as_paper()
    {
        // Black ink on a fully transparent canvas: without compositing, the transparent black would read as ink.
        var pixels = new float[40 * 30 * 4];
        for (var y = 8; y < 32; y++)
        {
            pixels[(y * 30 + 15) * 4 + 3] = 1;
        }

        var digit = DigitPicture.Prepare(new DecodedImage(pixels, new ImageShape(40, 30, 4)), "one");

        var (top, _, bottom, _) = DigitPicture.BoundingBox(digit, 28, 28);
        Assert.Equal(20, bottom - top + 1);
        Assert.Equal(0f, digit[0]);
    }

    [Fact]
    public void A_blank_picture_is_refused_naming_it()
    {
        var blank = new DecodedImage([.. Enumerable.Repeat(0.8f, 10 * 10 * 4)], new ImageShape(10, 10, 4));

        var error = Assert.Throws<InvalidDataException>(() => DigitPicture.Prepare(blank, "blank.png"));

        Assert.Contains("blank.png", error.Message);
    }

    [Fact]
    public void The_trained_network_reads_the_shipped_digits_and_the_pngs_show_what_it_saw()
    {
        var mnist = Datasets.Mnist();
        using var net = new MnistCnn(seed: 1);
        net.Fit(mnist.Train.Cache().Shuffle(8000, seed: 1).Batch(128).Prefetch(), epochs: 2, options: new FitOptions { Verbose = false });
        var pictures = OwnPictures.Prepare(DigitDrawings.All.Select(d => Path.Combine(DigitDrawings.Folder, d.Name)));
        var output = Path.Combine(Path.GetTempPath(), "kiln-predict-" + Guid.NewGuid().ToString("N"));
        try
        {
            var written = OwnPictures.Run(net, pictures, output);

            for (var i = 0; i < pictures.Count; i++)
            {
                var p = net.Predict(pictures[i].Pixels);
                Assert.Equal(DigitDrawings.All[i].Digit, Array.IndexOf(p, p.Max()));
                var saw = ImageDecoder.Decode(written[i], ColorMode.Grayscale);
                Assert.Equal(new ImageShape(28, 28, 1), saw.Shape);
                Assert.True(saw.Pixels.Zip(pictures[i].Pixels).All(pair => Math.Abs(pair.First - pair.Second) <= 1f / 255));
            }
            Assert.EndsWith("predictions.png", written[^1]);
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }
}

using Colours;
using Kiln;
using Kiln.Images;
using Kiln.Tests.IO;

namespace Examples.Tests;

/// <summary>examples/Colours: a 32×32×3 network trained from an image folder the test writes itself.</summary>
public class ColoursTests
{
    [Fact]
    public void The_demo_folder_holds_coloured_digit_pngs_by_class()
    {
        using var dir = new TempDirectory();

        ColouredDigits.Write(dir.Path, classes: 3, perClass: 4, seed: 1);

        var folder = ImageFolder.Open(dir.Path, ColourTraining.Options(0, 1) with { Shuffle = false });
        Assert.Equal(["0", "1", "2"], folder.ClassNames);
        Assert.Equal(12, folder.FileCount);
        var first = folder.Training.First().Features;
        Assert.Equal(32 * 32 * 3, first.Length);
        // Coloured: the three channels of a pixel differ somewhere.
        Assert.Contains(Enumerable.Range(0, 1024), p => first[p * 3] != first[p * 3 + 1] || first[p * 3 + 1] != first[p * 3 + 2]);
    }

    [Fact]
    public void A_small_colour_network_learns_digit_shapes_from_a_folder()
    {
        using var dir = new TempDirectory();
        ColouredDigits.Write(dir.Path, classes: 3, perClass: 150, seed: 2);
        var folder = ImageFolder.Open(dir.Path, ColourTraining.Options(validationSplit: 0.2, seed: 2));
        using var net = new ColourCnn(seed: 2);

        var history = ColourTraining.Train(net, folder, epochs: 6, seed: 2, augment: false, verbose: false);

        // Chance is 1/3; the colours say nothing about the class, so only the shapes can get it this far.
        Assert.Equal(90, folder.Validation!.Count);
        Assert.True(history.ValidationAccuracy[^1] >= 0.8, $"validation accuracy {history.ValidationAccuracy[^1]:0.000}");
    }

    [Fact]
    public void More_classes_than_outputs_are_refused()
    {
        using var dir = new TempDirectory();
        ColouredDigits.Write(dir.Path, classes: 1, perClass: 1, seed: 1);
        for (var c = 1; c <= 10; c++)
        {
            Directory.CreateDirectory(dir.File($"extra{c}"));
            File.Copy(Path.Combine(dir.File("0"), "0000.png"), Path.Combine(dir.File($"extra{c}"), "a.png"));
        }
        var folder = ImageFolder.Open(dir.Path, ColourTraining.Options(0, 1));
        using var net = new ColourCnn(seed: 1);

        var error = Assert.Throws<InvalidDataException>(() => ColourTraining.Train(net, folder, 1, 1, augment: false, verbose: false));

        Assert.Contains("11 classes", error.Message);
    }
}

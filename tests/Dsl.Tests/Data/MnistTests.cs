using Kiln.Tests.IO;

namespace Kiln.Tests.Data;

public class MnistTests
{
    private static readonly MnistData Embedded = Datasets.Mnist();

    [Fact]
    public void Invert_IsExactlyOneMinusEachPixel_AndKeepsTheLabel()
    {
        var digit = Embedded.Train.First();

        var inverted = Datasets.Invert(digit);

        Assert.Equal(digit.Label, inverted.Label);
        Assert.Equal(digit.Features.Select(p => 1f - p), inverted.Features);
        Assert.NotSame(digit.Features, inverted.Features);
    }

    [Fact]
    public void ConcatenateWithInvertedCopy_DoublesTheCount()
    {
        var augmented = Embedded.Train.Concatenate(Embedded.Train.Map(Datasets.Invert));

        Assert.Equal(16000, augmented.Count);
        Assert.Equal(16000, augmented.Count());
    }

    [Fact]
    public void Mnist_FromADirectory_ReadsRawAndGzippedFiles()
    {
        using var directory = new TempDirectory();
        byte[] pixels = [.. Enumerable.Range(0, 3 * 784).Select(i => (byte)(i % 256))];
        File.WriteAllBytes(directory.File("train-images-idx3-ubyte"), IdxBytes.Images(3, 28, 28, pixels));
        File.WriteAllBytes(directory.File("train-labels-idx1-ubyte.gz"), IdxBytes.Gzip(IdxBytes.Labels(3, [7, 0, 9])));
        File.WriteAllBytes(directory.File("t10k-images-idx3-ubyte.gz"), IdxBytes.Gzip(IdxBytes.Images(1, 28, 28, pixels[..784])));
        File.WriteAllBytes(directory.File("t10k-labels-idx1-ubyte"), IdxBytes.Labels(1, [4]));

        var mnist = Datasets.Mnist(directory.Path);

        Assert.Equal([7, 0, 9], mnist.Train.Select(e => e.Label));
        Assert.Equal([4], mnist.Test.Select(e => e.Label));
        Assert.Equal(pixels[784..1568].Select(b => b / 255f), mnist.Train.ElementAt(1).Features);
    }

    [Fact]
    public void Mnist_FromADirectory_NamesTheMissingFiles()
    {
        using var directory = new TempDirectory();
        File.WriteAllBytes(directory.File("train-images-idx3-ubyte.gz"), IdxBytes.Gzip(IdxBytes.Images(0, 28, 28, [])));
        File.WriteAllBytes(directory.File("train-labels-idx1-ubyte"), IdxBytes.Labels(0, []));

        var error = Assert.Throws<FileNotFoundException>(() => Datasets.Mnist(directory.Path));

        Assert.Contains("t10k-images-idx3-ubyte", error.Message);
        Assert.Contains("t10k-labels-idx1-ubyte", error.Message);
        Assert.DoesNotContain("lacks train", error.Message);
        Assert.Contains(directory.Path, error.Message);
    }
}

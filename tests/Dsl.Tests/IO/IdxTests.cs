using Kiln.IO;

namespace Kiln.Tests.IO;

public sealed class IdxTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private string Write(string name, byte[] bytes)
    {
        var path = _directory.File(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Images_RoundTrip(bool gzip)
    {
        byte[] pixels = [.. Enumerable.Range(0, 4 * 3 * 5).Select(i => (byte)(i * 4))];
        var bytes = IdxBytes.Images(4, 3, 5, pixels);
        var path = Write("images", gzip ? IdxBytes.Gzip(bytes) : bytes);

        var images = Idx.ReadImages(path);

        Assert.Equal((4, 3, 5), (images.Count, images.Rows, images.Columns));
        Assert.Equal(pixels, images.Pixels);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Examples_RoundTrip_ScaledTo01(bool gzip)
    {
        byte[] pixels = [0, 255, 51, 102, 1, 2, 3, 4];
        var images = IdxBytes.Images(2, 2, 2, pixels);
        var labels = IdxBytes.Labels(2, [3, 9]);
        var imagesPath = Write("images.gz", gzip ? IdxBytes.Gzip(images) : images);
        var labelsPath = Write("labels", gzip ? IdxBytes.Gzip(labels) : labels);

        var examples = Idx.ReadExamples(imagesPath, labelsPath).ToList();

        Assert.Equal([3, 9], examples.Select(e => e.Label));
        Assert.Equal([0f, 1f, 0.2f, 0.4f], examples[0].Features);
        Assert.Equal([1 / 255f, 2 / 255f, 3 / 255f, 4 / 255f], examples[1].Features);
    }

    [Fact]
    public void Images_WrongMagic_NamesFileOffsetAndBothNumbers()
    {
        var path = Write("labels-as-images", IdxBytes.Labels(2, [1, 2]));

        var error = Assert.Throws<InvalidDataException>(() => Idx.ReadImages(path));

        Assert.Contains(path, error.Message);
        Assert.Contains("byte 0", error.Message);
        Assert.Contains("0x00000801", error.Message);
        Assert.Contains("0x00000803", error.Message);
    }

    [Theory]
    [InlineData(false, "from byte 16")]
    [InlineData(true, "from decompressed byte 16")]
    public void Images_TruncatedData_NamesExpectedAndActualBytes(bool gzip, string where)
    {
        var bytes = IdxBytes.Images(3, 2, 2, new byte[10]);
        var path = Write("short", gzip ? IdxBytes.Gzip(bytes) : bytes);

        var error = Assert.Throws<InvalidDataException>(() => Idx.ReadImages(path));

        Assert.Contains(path, error.Message);
        Assert.Contains("truncated", error.Message);
        Assert.Contains("promises 12 bytes", error.Message);
        Assert.Contains("only 10 bytes", error.Message);
        Assert.Contains(where, error.Message);
    }

    [Fact]
    public void Images_TruncatedHeader_IsReported()
    {
        var path = Write("header", IdxBytes.Images(3, 2, 2, [])[..10]);

        var error = Assert.Throws<InvalidDataException>(() => Idx.ReadImages(path));

        Assert.Contains("byte 10", error.Message);
        Assert.Contains("row count", error.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Images_TrailingData_IsAnError(bool gzip)
    {
        var bytes = IdxBytes.Images(1, 2, 2, new byte[6]);
        var path = Write("long", gzip ? IdxBytes.Gzip(bytes) : bytes);

        var error = Assert.Throws<InvalidDataException>(() => Idx.ReadImages(path));

        Assert.Contains("byte 20", error.Message);
        Assert.Contains("follow", error.Message);
    }

    [Theory]
    [InlineData(0u, 28u, "row count is 0")]
    [InlineData(28u, 0u, "column count is 0")]
    [InlineData(100_000u, 28u, "row count is 100000")]
    [InlineData(20_000u, 20_000u, "exceed")]
    public void Images_ImplausibleDimensions_AreRejected(uint rows, uint columns, string problem)
    {
        var path = Write("dims", IdxBytes.Images(1, rows, columns, []));

        var error = Assert.Throws<InvalidDataException>(() => Idx.ReadImages(path));

        Assert.Contains(problem, error.Message);
    }

    [Theory]
    [InlineData(0x8000_0000u, false)]
    [InlineData(0x8000_0000u, true)]
    [InlineData(0x7FFF_FFFFu, false)]
    [InlineData(0x7FFF_FFFFu, true)]
    [InlineData(2_000_000u, false)]
    [InlineData(2_000_000u, true)]
    public void Images_HostileCount_FailsFast_WithoutAllocatingWhatItClaims(uint count, bool gzip)
    {
        // A thousand real images behind a header that claims far more.
        var bytes = IdxBytes.Images(count, 28, 28, new byte[1000 * 784]);
        var path = Write("hostile", gzip ? IdxBytes.Gzip(bytes) : bytes);
        Assert.Throws<InvalidDataException>(() => Idx.ReadImages(path));

        var before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<InvalidDataException>(() => Idx.ReadImages(path));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(allocated < 10_000_000, $"allocated {allocated} bytes");
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void Examples_LabelCountDiffersFromImageCount_NamesBoth()
    {
        var images = Write("images", IdxBytes.Images(3, 1, 1, [1, 2, 3]));
        var labels = Write("labels", IdxBytes.Labels(2, [1, 2]));

        var error = Assert.Throws<InvalidDataException>(() => Idx.ReadExamples(images, labels));

        Assert.Contains("3 images", error.Message);
        Assert.Contains("2 labels", error.Message);
        Assert.Contains(images, error.Message);
        Assert.Contains(labels, error.Message);
    }

    [Theory]
    [InlineData(false, "at byte 10")]
    [InlineData(true, "at decompressed byte 10")]
    public void Labels_OutOfRange_NamesTheLabelAndItsOffset(bool gzip, string where)
    {
        var bytes = IdxBytes.Labels(4, [1, 9, 10, 3]);
        var path = Write("labels", gzip ? IdxBytes.Gzip(bytes) : bytes);

        var error = Assert.Throws<InvalidDataException>(() => Idx.ReadLabels(path, classes: 10));

        Assert.Contains(path, error.Message);
        Assert.Contains(where, error.Message);
        Assert.Contains("label 10", error.Message);
        Assert.Equal([1, 9, 10, 3], Idx.ReadLabels(path, classes: 11));
    }

    [Fact]
    public void Gzip_IsRecognisedByContent_NotByName()
    {
        var gzipped = Write("plain-name", IdxBytes.Gzip(IdxBytes.Labels(1, [5])));
        var raw = Write("misleading.gz", IdxBytes.Labels(1, [6]));

        Assert.Equal([5], Idx.ReadLabels(gzipped));
        Assert.Equal([6], Idx.ReadLabels(raw));
    }

    [Fact]
    public void Gzip_CorruptStream_NamesTheFile()
    {
        var bytes = IdxBytes.Gzip(IdxBytes.Images(10, 28, 28, new byte[7840]));
        bytes[bytes.Length / 2] ^= 0xFF;
        bytes[bytes.Length / 2 + 1] ^= 0xFF;
        var path = Write("corrupt", bytes);

        var error = Assert.Throws<InvalidDataException>(() => Idx.ReadImages(path));

        Assert.Contains(path, error.Message);
    }
}

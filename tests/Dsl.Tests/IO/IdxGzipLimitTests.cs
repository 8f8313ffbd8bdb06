using Kiln.IO;

namespace Kiln.Tests.IO;

/// <summary>
/// Gzip files whose header claims more than they hold, or exactly what they hold: the reader allocates the payload
/// once, and only after the decompressed data has proved to be there. The previous reader grew its buffer by
/// doubling as data arrived, holding two copies at once (a 2 MB bomb reached about 4 GB).
/// </summary>
public sealed class IdxGzipLimitTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void A_claim_beyond_what_the_compressed_bytes_can_inflate_to_is_refused_before_allocating()
    {
        // 2,700,000 images of 28 × 28 claimed, 1,000 blank ones present: a few kilobytes of gzip.
        var path = Write("bomb.gz", IdxBytes.Gzip(IdxBytes.Images(2_700_000, 28, 28, new byte[1_000 * 784])));

        var (error, allocated) = Measure(() => Idx.ReadImages(path));

        Assert.Contains(path, error.Message);
        Assert.Contains("decompressed byte 16", error.Message);
        Assert.Contains("can decompress to at most", error.Message);
        Assert.True(allocated < 256 * 1024, $"allocated {allocated} bytes");
    }

    [Fact]
    public void A_claim_the_data_does_not_back_is_found_out_before_the_payload_is_allocated()
    {
        // Incompressible bytes, so the claim of 1,000 images fits the compressed size, but only 500 are there.
        var pixels = new byte[500 * 784];
        new Random(1).NextBytes(pixels);
        var path = Write("short.gz", IdxBytes.Gzip(IdxBytes.Images(1_000, 28, 28, pixels)));

        var (error, allocated) = Measure(() => Idx.ReadImages(path));

        Assert.Contains(path, error.Message);
        Assert.Contains("truncated", error.Message);
        Assert.Contains("only 392000 bytes follow", error.Message);
        Assert.True(allocated < 256 * 1024, $"allocated {allocated} bytes for a claim of 784,000");
    }

    [Fact]
    public void More_data_than_claimed_is_refused_without_decompressing_all_of_it()
    {
        var path = Write("long.gz", IdxBytes.Gzip(IdxBytes.Images(10, 28, 28, new byte[100_000 * 784])));

        var (error, allocated) = Measure(() => Idx.ReadImages(path));

        Assert.Contains("decompressed byte 7856", error.Message);
        Assert.Contains("more data follows", error.Message);
        Assert.True(allocated < 256 * 1024, $"allocated {allocated} bytes");
    }

    [Fact]
    public void An_honest_large_file_is_read_with_one_payload_array()
    {
        const int count = 20_000;
        var pixels = new byte[count * 784];
        pixels[12_345] = 7;
        var path = Write("blank.gz", IdxBytes.Gzip(IdxBytes.Images(count, 28, 28, pixels)));

        IdxImages? images = null;
        var allocated = Allocated(() => images = Idx.ReadImages(path));

        Assert.Equal(pixels, images!.Pixels);
        // One array of 15.7 MB plus small buffers; doubling from 1 MB allocated 31 MB.
        Assert.True(allocated < pixels.Length + 1_000_000, $"allocated {allocated} bytes for {pixels.Length} pixels");
    }

    private string Write(string name, byte[] bytes)
    {
        var path = _directory.File(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static (InvalidDataException Error, long Allocated) Measure(Action read)
    {
        InvalidDataException? error = null;
        var allocated = Allocated(() => error = Assert.Throws<InvalidDataException>(read));
        return (error!, allocated);
    }

    private static long Allocated(Action action)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }
}

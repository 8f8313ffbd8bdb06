using Kiln.IO;

namespace Kiln.Tests.IO;

public sealed class AtomicFileTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void Write_ReplacesTheFile()
    {
        var path = _directory.File("target.bin");
        File.WriteAllText(path, "old");

        AtomicFile.Write(path, stream => stream.Write("new content"u8));

        Assert.Equal("new content", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(_directory.Path));
    }

    [Fact]
    public void Write_ThatThrowsAfterWriting_LeavesTheOldFileAndNoTemporaryFile()
    {
        var path = _directory.File("target.bin");
        File.WriteAllText(path, "old");

        var error = Assert.Throws<IOException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write(new byte[100_000]);
            stream.Flush();
            throw new IOException("disk full");
        }));

        Assert.Equal("disk full", error.Message);
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Equal([path], Directory.GetFiles(_directory.Path));
    }

    [Fact]
    public void Write_ThatThrows_WithNoPreviousFile_LeavesNothing()
    {
        var path = _directory.File("target.bin");

        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, _ => throw new InvalidOperationException()));

        Assert.Empty(Directory.GetFiles(_directory.Path));
    }

    [Fact]
    public void Write_IntoAMissingDirectory_ReportsTheDirectory()
    {
        var path = Path.Combine(_directory.Path, "missing", "target.bin");

        Assert.Throws<DirectoryNotFoundException>(() => AtomicFile.Write(path, stream => stream.WriteByte(1)));
    }
}

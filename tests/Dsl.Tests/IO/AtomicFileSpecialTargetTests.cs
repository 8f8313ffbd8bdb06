using Kiln.IO;

namespace Kiln.Tests.IO;

public class AtomicFileSpecialTargetTests
{
    [Fact]
    public void Device_files_are_not_replaced()
    {
        var e = Assert.Throws<IOException>(() => AtomicFile.Write("/dev/null", s => s.WriteByte(1)));
        Assert.Contains("'/dev/null' is not a regular file", e.Message);
    }

    [Fact]
    public void Directories_are_not_replaced()
    {
        var directory = Directory.CreateTempSubdirectory("kiln-atomic-").FullName;
        try
        {
            var e = Assert.Throws<IOException>(() => AtomicFile.Write(directory, s => s.WriteByte(1)));
            Assert.Contains("is not a regular file", e.Message);
            Assert.True(Directory.Exists(directory));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}

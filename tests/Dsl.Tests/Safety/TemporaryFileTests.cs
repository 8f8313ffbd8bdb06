using Kiln.IO;
using Kiln.Tests.IO;
using Kiln.Tests.Training;

namespace Kiln.Tests.Safety;

/// <summary>
/// A save killed before its rename leaves its temporary file; the next save to the same path removes it. Temporary
/// names were the target's plus 38 characters, so a valid 230-character name failed with PathTooLongException.
/// </summary>
public sealed class TemporaryFileTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void Orphans_of_earlier_saves_to_the_path_are_deleted_and_nothing_else()
    {
        var path = _directory.File("net.safetensors");
        string[] orphans = [".net.safetensors.0123456789ab.tmp", ".net.safetensors.0123456789abcdef0123456789abcdef.tmp"];
        string[] others = [".net.safetensors.notes.tmp", ".other.safetensors.0123456789ab.tmp", "net.safetensors.0123456789ab.tmp"];
        foreach (var name in orphans.Concat(others))
        {
            File.WriteAllBytes(_directory.File(name), [1, 2, 3]);
        }
        using var net = new XorNet(seed: 1);

        net.Save(path);

        Assert.Equal(others.Append("net.safetensors").Order(StringComparer.Ordinal), Directory.GetFiles(_directory.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_temporary_file_another_writer_holds_open_is_left_alone()
    {
        var path = _directory.File("net.safetensors");
        var busy = _directory.File(".net.safetensors.00000000abcd.tmp");
        using (var writer = new FileStream(busy, FileMode.CreateNew, FileAccess.Write, FileShare.None))
        {
            AtomicFile.Write(path, s => s.WriteByte(42));
            Assert.True(File.Exists(busy));
        }
        Assert.Equal([42], File.ReadAllBytes(path));
    }

    [Fact]
    public void A_name_of_250_characters_saves_and_loads()
    {
        var path = _directory.File(new string('n', 238) + ".safetensors");
        using var net = new XorNet(seed: 3);
        using var copy = new XorNet(seed: 4);

        net.Save(path);
        copy.Load(path);

        Assert.Equal(net.GetParameters(), copy.GetParameters());
        Assert.Equal([Path.GetFileName(path)], Directory.GetFiles(_directory.Path).Select(Path.GetFileName));
    }
}

using System.Buffers.Binary;
using System.Text;
using Kiln.IO;

namespace Kiln.Tests.IO;

/// <summary>
/// Header text the JSON reader accepts as syntax but cannot turn into strings. These threw InvalidOperationException
/// ("Cannot transcode invalid UTF-8 JSON text"), outside the documented InvalidDataException.
/// </summary>
public sealed class SafeTensorsEncodingTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void Invalid_utf8_in_a_tensor_name_is_InvalidDataException_naming_file_and_byte()
    {
        // {"w\xFF":…}: the 0xFF is header byte 3, file byte 11.
        var header = Encoding.UTF8.GetBytes("""{"w_":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""");
        header[3] = 0xFF;
        var path = Write(header, new byte[4]);

        var error = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path));

        Assert.Contains(path, error.Message);
        Assert.Contains("(byte 11)", error.Message);
        Assert.Contains("not valid UTF-8", error.Message);
    }

    [Theory]
    [InlineData("""{"\ud800":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 9)]
    [InlineData("""{"__metadata__":{"k":"\udfff"}}""", 29)]
    [InlineData("""{"w":{"dtype":"F\ud83d","shape":[1],"data_offsets":[0,4]}}""", 22)]
    public void An_escaped_lone_surrogate_is_InvalidDataException_naming_file_and_byte(string json, int offset)
    {
        var path = Write(Encoding.UTF8.GetBytes(json), new byte[4]);

        var error = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path));

        Assert.Contains(path, error.Message);
        Assert.Contains($"(byte {offset})", error.Message);
        Assert.Contains("not valid text", error.Message);
    }

    private string Write(byte[] header, byte[] data)
    {
        var length = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        var path = _directory.File("model.safetensors");
        File.WriteAllBytes(path, [.. length, .. header, .. data]);
        return path;
    }
}

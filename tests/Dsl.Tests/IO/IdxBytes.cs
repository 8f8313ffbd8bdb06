using System.Buffers.Binary;
using System.IO.Compression;

namespace Kiln.Tests.IO;

/// <summary>Builds IDX files byte by byte from the format's description, independently of the reader.</summary>
public static class IdxBytes
{
    public static byte[] Images(uint count, uint rows, uint columns, byte[] pixels, uint magic = 0x803) =>
        [.. BigEndian(magic), .. BigEndian(count), .. BigEndian(rows), .. BigEndian(columns), .. pixels];

    public static byte[] Labels(uint count, byte[] labels, uint magic = 0x801) =>
        [.. BigEndian(magic), .. BigEndian(count), .. labels];

    public static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
        {
            gzip.Write(data);
        }
        return output.ToArray();
    }

    private static byte[] BigEndian(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return bytes;
    }
}

using System.Buffers.Binary;
using System.IO.Compression;

namespace Kiln.IO;

/// <summary>
/// Reads one IDX file front to back, raw or gzip-compressed, keeping the byte offset for error messages.
/// Nothing is allocated on the header's word alone: a raw file's size is checked up front, and a
/// compressed file's buffer grows only as decompressed data actually arrives.
/// </summary>
internal sealed class IdxReader : IDisposable
{
    private const int FirstChunk = 1 << 20;
    private readonly Stream _stream;
    private readonly bool _compressed;
    private readonly long? _length;
    private long _offset;

    private IdxReader(Stream stream, bool compressed, long? length, string name)
    {
        _stream = stream;
        _compressed = compressed;
        _length = length;
        Name = name;
    }

    public string Name { get; }

    /// <summary>Recognises gzip by its magic bytes (1f 8b), not by the name. The stream must be seekable and stays open.</summary>
    public static IdxReader Open(Stream stream, string name)
    {
        Span<byte> magic = stackalloc byte[2];
        var read = stream.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
        stream.Seek(-read, SeekOrigin.Current);
        return read == 2 && magic[0] == 0x1f && magic[1] == 0x8b
            ? new IdxReader(new GZipStream(stream, CompressionMode.Decompress, leaveOpen: true), true, null, name)
            : new IdxReader(stream, false, stream.Length - stream.Position, name);
    }

    /// <summary>"byte N" of the file, or of the decompressed data for a gzip file.</summary>
    public string Where(long offset) => _compressed ? $"decompressed byte {offset}" : $"byte {offset}";

    public InvalidDataException Error(long offset, string problem) => new($"'{Name}' at {Where(offset)}: {problem}");

    public void ReadMagic(uint expected, string kind)
    {
        var magic = ReadUInt32("magic number");
        if (magic != expected)
        {
            throw Error(0, $"the magic number is 0x{magic:X8}, but IDX {kind} start with 0x{expected:X8}.");
        }
    }

    public int ReadDimension(string what, int min, int max)
    {
        var offset = _offset;
        var value = ReadUInt32(what);
        if (value < min || value > max)
        {
            throw Error(offset, $"the {what} is {value}, outside [{min}, {max}].");
        }
        return (int)value;
    }

    /// <summary>Reads exactly the <paramref name="length"/> bytes the header promises, and checks that nothing follows.</summary>
    public byte[] ReadPayload(long length, string what)
    {
        var start = _offset;
        if (length > Array.MaxLength)
        {
            throw Error(start, $"the header promises {length} bytes of {what}, more than one array can hold.");
        }
        if (_length is { } fileLength && fileLength != start + length)
        {
            throw fileLength < start + length
                ? Truncated(start, length, fileLength - start, what)
                : Error(start + length, $"{fileLength - start - length} bytes follow the {length} bytes of {what} the header promises.");
        }

        var buffer = new byte[_length is null ? Math.Min(length, FirstChunk) : length];
        var filled = 0;
        while (filled < length)
        {
            if (filled == buffer.Length)
            {
                Array.Resize(ref buffer, (int)Math.Min(length, 2L * buffer.Length));
            }
            var read = Read(buffer.AsSpan(filled));
            if (read == 0)
            {
                throw Truncated(start, length, filled, what);
            }
            filled += read;
        }
        if (Read(stackalloc byte[1]) != 0)
        {
            throw Error(_offset - 1, $"more data follows the {length} bytes of {what} the header promises.");
        }
        return buffer;
    }

    public void Dispose()
    {
        if (_compressed)
        {
            _stream.Dispose();
        }
    }

    private InvalidDataException Truncated(long start, long expected, long actual, string what) =>
        new($"'{Name}' is truncated: the header promises {expected} bytes of {what} from {Where(start)}, but only {actual} bytes follow.");

    private uint ReadUInt32(string what)
    {
        Span<byte> bytes = stackalloc byte[4];
        var offset = _offset;
        var read = 0;
        while (read < 4 && Read(bytes[read..]) is var n && n > 0)
        {
            read += n;
        }
        if (read < 4)
        {
            throw Error(offset + read, $"the file ends inside the header, while reading the {what}.");
        }
        return BinaryPrimitives.ReadUInt32BigEndian(bytes);
    }

    private int Read(Span<byte> destination)
    {
        try
        {
            var read = _stream.Read(destination);
            _offset += read;
            return read;
        }
        catch (InvalidDataException e) when (_compressed)
        {
            throw new InvalidDataException($"'{Name}' near {Where(_offset)}: the gzip data is corrupt ({e.Message})", e);
        }
    }
}

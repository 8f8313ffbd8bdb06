using System.Buffers.Binary;
using System.IO.Compression;

namespace Kiln.IO;

/// <summary>
/// Reads one IDX file front to back, raw or gzip-compressed, keeping the byte offset for error messages.
/// Nothing is allocated on the header's word alone: a raw file's size is checked up front; a compressed file's claim
/// must fit what its compressed size can inflate to, and is then checked by decompressing once into a small buffer,
/// never past the claim, before the payload's one array is allocated and filled by a second pass.
/// </summary>
/// <remarks>Not thread-safe: one reader per file and thread.</remarks>
internal sealed class IdxReader : IDisposable
{
    // DEFLATE's largest expansion: a 258-byte match costs at least two bits, so 1 compressed byte yields < 1032.
    private const long MaxInflation = 1032;
    private const int CountChunk = 1 << 16;
    private readonly Stream _source;
    private readonly long _origin;
    private Stream _stream;
    private readonly bool _compressed;
    private readonly long? _length;
    private long _offset;

    private IdxReader(Stream source, bool compressed, string name)
    {
        _source = source;
        _origin = source.Position;
        _compressed = compressed;
        _stream = compressed ? Inflate() : source;
        _length = compressed ? null : source.Length - _origin;
        Name = name;
    }

    public string Name { get; }

    /// <summary>Recognises gzip by its magic bytes (1f 8b), not by the name. The stream must be seekable and stays open.</summary>
    public static IdxReader Open(Stream stream, string name)
    {
        Span<byte> magic = stackalloc byte[2];
        var read = stream.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
        stream.Seek(-read, SeekOrigin.Current);
        return new IdxReader(stream, read == 2 && magic[0] == 0x1f && magic[1] == 0x8b, name);
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

        if (_compressed)
        {
            CheckDecompressedLength(start, length, what);
        }

        var buffer = new byte[length];
        var filled = 0;
        while (filled < length)
        {
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

    // Refuses a claim the compressed bytes cannot hold, then decompresses once without keeping anything, stopping one
    // byte past the claim, so the payload's array is allocated only for data that is really there. The second pass
    // restarts from the file's first byte.
    private void CheckDecompressedLength(long start, long length, string what)
    {
        var compressed = _source.Length - _origin;
        if (length + start > compressed * MaxInflation)
        {
            throw Error(start, $"the header promises {length} bytes of {what}, but {compressed} bytes of gzip data can decompress to at most {compressed * MaxInflation}.");
        }
        var scratch = new byte[(int)Math.Min(CountChunk, length + 1)];
        var counted = 0L;
        int read;
        while (counted <= length && (read = Read(scratch.AsSpan(0, (int)Math.Min(scratch.Length, length + 1 - counted)))) > 0)
        {
            counted += read;
        }
        if (counted < length)
        {
            throw Truncated(start, length, counted, what);
        }
        if (counted > length)
        {
            throw Error(start + length, $"more data follows the {length} bytes of {what} the header promises.");
        }
        _stream.Dispose();
        _source.Position = _origin;
        _stream = Inflate();
        _offset = 0;
        var header = new byte[start];
        if (_stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false) != header.Length)
        {
            throw Error(0, "the gzip data changed while it was read.");
        }
        _offset = start;
    }

    private GZipStream Inflate() => new(_source, CompressionMode.Decompress, leaveOpen: true);

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

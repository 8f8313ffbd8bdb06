using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;

namespace Kiln.IO;

/// <summary>
/// The safetensors format: a little-endian u64 header length N, N bytes of JSON
/// (<c>{"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {string: string}}</c>,
/// padded with spaces to a multiple of 8), then the raw little-endian tensor data.
/// </summary>
/// <remarks>
/// Every problem with a file's content is an <see cref="InvalidDataException"/> naming the file and the byte offset
/// where it was found (invalid UTF-8 and lone surrogates in the header included); opening the file can also raise the
/// usual <see cref="IOException"/>s. All members may be called from any number of threads.
/// </remarks>
public static class SafeTensors
{
    private const string MetadataKey = "__metadata__";
    private const long MaxHeaderLength = 100_000_000;

    // Everything the format defines, so that a valid but unsupported file is told apart from a damaged one.
    private static readonly HashSet<string> KnownDTypes =
        ["BOOL", "U8", "I8", "I16", "U16", "I32", "U32", "I64", "U64", "F16", "BF16", "F32", "F64", "C64",
         "F8_E5M2", "F8_E4M3", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4"];

    /// <summary>Writes F32 tensors in the given order, contiguously, replacing <paramref name="path"/> atomically.</summary>
    public static void Save(string path, IReadOnlyList<NamedTensor> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentNullException.ThrowIfNull(metadata);
        CheckForSaving(tensors);
        var header = WriteHeader(tensors, metadata);
        AtomicFile.Write(path, stream =>
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
            stream.Write(length);
            stream.Write(header);
            foreach (var tensor in tensors)
            {
                WriteLittleEndian(stream, tensor.Data);
            }
        });
    }

    /// <summary>
    /// Reads a safetensors file holding F32 tensors. Every inconsistency in the header is reported as an
    /// <see cref="InvalidDataException"/> before any tensor is allocated, so a hostile header cannot make this
    /// allocate more than the file's size.
    /// </summary>
    /// <param name="include">Which tensors to read; the others (such as PyTorch's I64 <c>num_batches_tracked</c>) are
    /// neither checked nor read. All of them when null.</param>
    public static SafeTensorsFile Load(string path, Predicate<string>? include = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        var fileLength = file.Length;
        if (fileLength < 8)
        {
            throw Invalid(path, 0, $"the file has {fileLength} bytes, too few for the 8-byte header length.");
        }
        Span<byte> prefix = stackalloc byte[8];
        file.ReadExactly(prefix);
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > MaxHeaderLength)
        {
            throw Invalid(path, 0, $"the header length {headerLength} exceeds the limit of {MaxHeaderLength} bytes.");
        }
        if (headerLength > (ulong)(fileLength - 8))
        {
            throw Invalid(path, 0, $"the header length {headerLength} runs beyond the end of the file ({fileLength - 8} bytes follow the length).");
        }
        var header = new byte[headerLength];
        file.ReadExactly(header);
        var dataStart = 8 + (long)headerLength;

        var (entries, metadata) = ParseHeader(header, path);
        if (include is not null)
        {
            entries.RemoveAll(e => !include(e.Name));
        }
        Check(entries, fileLength - dataStart, path);

        var tensors = new Dictionary<string, NamedTensor>(entries.Count, StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            var data = new float[(entry.End - entry.Begin) / sizeof(float)];
            file.Position = dataStart + entry.Begin;
            file.ReadExactly(MemoryMarshal.AsBytes(data.AsSpan()));
            if (!BitConverter.IsLittleEndian)
            {
                BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<float, int>(data.AsSpan()), MemoryMarshal.Cast<float, int>(data.AsSpan()));
            }
            tensors.Add(entry.Name, new NamedTensor(entry.Name, entry.Shape, data, entry.DType));
        }
        return new SafeTensorsFile(tensors, metadata);
    }

    // Offset: where the tensor's name starts in the file, for errors.
    private sealed record Entry(string Name, string DType, int[] Shape, long Begin, long End, long Offset);

    private static void CheckForSaving(IReadOnlyList<NamedTensor> tensors)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var tensor in tensors)
        {
            ArgumentNullException.ThrowIfNull(tensor, nameof(tensors));
            if (string.IsNullOrEmpty(tensor.Name) || tensor.Name == MetadataKey || !names.Add(tensor.Name))
            {
                throw new ArgumentException($"Tensor name '{tensor.Name}' is empty, reserved or repeated.", nameof(tensors));
            }
            if (tensor.DType != "F32")
            {
                throw new ArgumentException($"Tensor '{tensor.Name}' has dtype {tensor.DType}; only F32 can be written.", nameof(tensors));
            }
            if (tensor.Shape.Any(d => d < 0) || ElementCount(tensor.Shape) != tensor.Data.Length)
            {
                throw new ArgumentException($"Tensor '{tensor.Name}' has shape [{string.Join(", ", tensor.Shape)}] but {tensor.Data.Length} values.", nameof(tensors));
            }
        }
    }

    private static byte[] WriteHeader(IReadOnlyList<NamedTensor> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        var buffer = new ArrayBufferWriter<byte>();
        // Relaxed escaping keeps non-ASCII names readable; the header is never embedded in HTML.
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            if (metadata.Count > 0)
            {
                json.WriteStartObject(MetadataKey);
                foreach (var (key, value) in metadata)
                {
                    json.WriteString(key, value);
                }
                json.WriteEndObject();
            }
            var offset = 0L;
            foreach (var tensor in tensors)
            {
                json.WriteStartObject(tensor.Name);
                json.WriteString("dtype", tensor.DType);
                json.WriteStartArray("shape");
                foreach (var dimension in tensor.Shape)
                {
                    json.WriteNumberValue(dimension);
                }
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                offset += (long)tensor.Data.Length * sizeof(float);
                json.WriteNumberValue(offset);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        // Padding to 8 bytes keeps the data aligned for readers that map the file.
        var padded = new byte[(buffer.WrittenCount + 7) / 8 * 8];
        buffer.WrittenSpan.CopyTo(padded);
        padded.AsSpan(buffer.WrittenCount).Fill((byte)' ');
        return padded;
    }

    private static (List<Entry> Entries, Dictionary<string, string> Metadata) ParseHeader(byte[] header, string path)
    {
        var entries = new List<Entry>();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        // The JSON reader would throw InvalidOperationException on invalid UTF-8 inside a string.
        if (Utf8.ToUtf16(header, new char[header.Length], out var valid, out _, replaceInvalidSequences: false) != OperationStatus.Done)
        {
            throw Invalid(path, 8 + valid, "the header is not valid UTF-8.");
        }
        var json = new Utf8JsonReader(header);
        try
        {
            if (!json.Read() || json.TokenType != JsonTokenType.StartObject)
            {
                throw Invalid(path, 8, "the header is not a JSON object.");
            }
            while (json.Read() && json.TokenType == JsonTokenType.PropertyName)
            {
                var offset = 8 + json.TokenStartIndex;
                var name = ReadString(ref json, path);
                if (!seen.Add(name))
                {
                    throw Invalid(path, offset, $"the header names '{name}' twice.");
                }
                json.Read();
                if (name == MetadataKey)
                {
                    ReadMetadata(ref json, metadata, path);
                }
                else
                {
                    entries.Add(ReadEntry(ref json, name, offset, path));
                }
            }
            // Reading past the closing brace makes the reader reject anything but trailing whitespace.
            json.Read();
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}' is not a valid safetensors file (byte {8 + json.BytesConsumed}): the header is not valid JSON ({e.Message})", e);
        }
        return (entries, metadata);
    }

    // GetString throws InvalidOperationException for an escaped lone surrogate (\ud800), which is valid JSON syntax.
    private static string ReadString(ref Utf8JsonReader json, string path)
    {
        try
        {
            return json.GetString()!;
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidDataException($"'{path}' is not a valid safetensors file (byte {8 + json.TokenStartIndex}): a string in the header is not valid text ({e.Message})", e);
        }
    }

    private static void ReadMetadata(ref Utf8JsonReader json, Dictionary<string, string> metadata, string path)
    {
        if (json.TokenType != JsonTokenType.StartObject)
        {
            throw Invalid(path, 8 + json.TokenStartIndex, $"'{MetadataKey}' is not an object of strings.");
        }
        while (json.Read() && json.TokenType == JsonTokenType.PropertyName)
        {
            var offset = 8 + json.TokenStartIndex;
            var key = ReadString(ref json, path);
            json.Read();
            if (json.TokenType != JsonTokenType.String)
            {
                throw Invalid(path, offset, $"metadata '{key}' is a {json.TokenType}, not a string.");
            }
            if (!metadata.TryAdd(key, ReadString(ref json, path)))
            {
                throw Invalid(path, offset, $"metadata '{key}' appears twice.");
            }
        }
    }

    private static Entry ReadEntry(ref Utf8JsonReader json, string name, long offset, string path)
    {
        if (json.TokenType != JsonTokenType.StartObject)
        {
            throw Invalid(path, offset, $"tensor '{name}' is a {json.TokenType}, not an object.");
        }
        string? dtype = null;
        int[]? shape = null;
        long[]? offsets = null;
        while (json.Read() && json.TokenType == JsonTokenType.PropertyName)
        {
            var field = ReadString(ref json, path);
            json.Read();
            switch (field)
            {
                case "dtype":
                    dtype = json.TokenType == JsonTokenType.String ? ReadString(ref json, path) : throw Invalid(path, 8 + json.TokenStartIndex, $"tensor '{name}': 'dtype' is not a string.");
                    break;
                case "shape":
                    shape = [.. ReadIntegers(ref json, name, field, int.MaxValue, path).Select(d => (int)d)];
                    break;
                case "data_offsets":
                    offsets = ReadIntegers(ref json, name, field, long.MaxValue, path);
                    break;
                default:
                    json.Skip();
                    break;
            }
        }
        if (dtype is null || shape is null || offsets is null)
        {
            var missing = new[] { ("dtype", dtype is null), ("shape", shape is null), ("data_offsets", offsets is null) }.Where(f => f.Item2).Select(f => f.Item1);
            throw Invalid(path, offset, $"tensor '{name}' lacks {string.Join(" and ", missing)}.");
        }
        if (offsets.Length != 2)
        {
            throw Invalid(path, offset, $"tensor '{name}' has {offsets.Length} data_offsets; expected [begin, end].");
        }
        return new Entry(name, dtype, shape, offsets[0], offsets[1], offset);
    }

    private static long[] ReadIntegers(ref Utf8JsonReader json, string name, string field, long max, string path)
    {
        if (json.TokenType != JsonTokenType.StartArray)
        {
            throw Invalid(path, 8 + json.TokenStartIndex, $"tensor '{name}': '{field}' is not an array.");
        }
        var values = new List<long>();
        while (json.Read() && json.TokenType != JsonTokenType.EndArray)
        {
            if (json.TokenType != JsonTokenType.Number || !json.TryGetInt64(out var value) || value < 0 || value > max)
            {
                throw Invalid(path, 8 + json.TokenStartIndex, $"tensor '{name}': '{field}' holds something other than an integer in [0, {max}].");
            }
            values.Add(value);
        }
        return [.. values];
    }

    private static void Check(List<Entry> entries, long dataLength, string path)
    {
        foreach (var entry in entries)
        {
            if (entry.DType != "F32")
            {
                throw Invalid(path, entry.Offset, KnownDTypes.Contains(entry.DType)
                    ? $"tensor '{entry.Name}' has dtype {entry.DType}, which Kiln does not read; only F32 is supported."
                    : $"tensor '{entry.Name}' has unknown dtype '{entry.DType}'.");
            }
            if (entry.Begin > entry.End || entry.End > dataLength)
            {
                throw Invalid(path, entry.Offset, $"tensor '{entry.Name}' has data_offsets [{entry.Begin}, {entry.End}], out of range of the {dataLength} data bytes.");
            }
            var elements = ElementCount(entry.Shape);
            if (elements > Array.MaxLength || elements * sizeof(float) != entry.End - entry.Begin)
            {
                throw Invalid(path, entry.Offset, $"tensor '{entry.Name}' has shape [{string.Join(", ", entry.Shape)}] ({elements} F32 values), but its data_offsets span {entry.End - entry.Begin} bytes.");
            }
        }
        Entry? previous = null;
        foreach (var entry in entries.Where(e => e.End > e.Begin).OrderBy(e => e.Begin))
        {
            if (previous is not null && entry.Begin < previous.End)
            {
                throw Invalid(path, entry.Offset, $"tensors '{previous.Name}' [{previous.Begin}, {previous.End}] and '{entry.Name}' [{entry.Begin}, {entry.End}] overlap.");
            }
            previous = entry;
        }
    }

    /// <summary>The product of the dimensions, saturating above <see cref="Array.MaxLength"/> so it cannot overflow.</summary>
    private static long ElementCount(int[] shape) =>
        shape.Contains(0) ? 0 : shape.Aggregate(1L, (product, d) => product > Array.MaxLength ? product : product * d);

    private static void WriteLittleEndian(Stream stream, float[] data)
    {
        if (BitConverter.IsLittleEndian)
        {
            stream.Write(MemoryMarshal.AsBytes(data.AsSpan()));
            return;
        }
        var swapped = new int[data.Length];
        BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<float, int>(data.AsSpan()), swapped);
        stream.Write(MemoryMarshal.AsBytes(swapped.AsSpan()));
    }

    private static InvalidDataException Invalid(string path, long offset, string problem) => new($"'{path}' is not a valid safetensors file (byte {offset}): {problem}");
}

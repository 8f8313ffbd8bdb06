using System.Buffers.Binary;
using System.Text;
using Kiln.IO;

namespace Kiln.Tests.IO;

public sealed class SafeTensorsTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    /// <summary>A file assembled by hand from the format's description: length, JSON header, data.</summary>
    private static byte[] HandMade(string json, byte[] data, ulong? claimedLength = null)
    {
        var header = Encoding.UTF8.GetBytes(json);
        var length = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, claimedLength ?? (ulong)header.Length);
        return [.. length, .. header, .. data];
    }

    private static byte[] LittleEndian(params float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        }
        return bytes;
    }

    private string Write(byte[] bytes)
    {
        var path = _directory.File("model.safetensors");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void RoundTrip_IsBitExact_AndKeepsShapesAndMetadata()
    {
        float[] special = [0f, -0f, float.Epsilon, -float.Epsilon, float.MaxValue, float.NegativeInfinity,
            BitConverter.Int32BitsToSingle(0x7FC0_1234), 1f / 3f];
        var random = new Random(1);
        var kernel = Enumerable.Range(0, 2 * 3 * 4).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        NamedTensor[] tensors =
        [
            new("conv.kernel", [2, 3, 4], kernel),
            new("conv.bias", [8], special),
            new("scalar", [], [42f]),
            new("empty", [0, 5], []),
        ];
        var path = _directory.File("weights.safetensors");

        SafeTensors.Save(path, tensors, new Dictionary<string, string> { ["kiln.network"] = "Net", ["note"] = "ünïcödé \"quoted\"" });
        var file = SafeTensors.Load(path);

        Assert.Equal(tensors.Length, file.Tensors.Count);
        foreach (var tensor in tensors)
        {
            var loaded = file.Tensors[tensor.Name];
            Assert.Equal(tensor.Shape, loaded.Shape);
            Assert.Equal("F32", loaded.DType);
            Assert.Equal(tensor.Data.Select(BitConverter.SingleToInt32Bits), loaded.Data.Select(BitConverter.SingleToInt32Bits));
        }
        Assert.Equal("Net", file.Metadata["kiln.network"]);
        Assert.Equal("ünïcödé \"quoted\"", file.Metadata["note"]);
    }

    [Fact]
    public void Save_FollowsTheLayout_PaddedHeaderThenContiguousDataInOrder()
    {
        var path = _directory.File("layout.safetensors");

        SafeTensors.Save(path, [new("b", [2], [1f, 2f]), new("a", [1], [3f])], new Dictionary<string, string>());
        var bytes = File.ReadAllBytes(path);

        var headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0, headerLength % 8);
        Assert.Equal(8 + headerLength + 12, bytes.Length);
        var header = Encoding.UTF8.GetString(bytes, 8, headerLength);
        Assert.StartsWith("{", header);
        Assert.Equal(header.TrimEnd(' '), header.TrimEnd());
        Assert.Contains("\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}", header);
        Assert.Contains("\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}", header);
        Assert.Equal(LittleEndian(1f, 2f, 3f), bytes[(8 + headerLength)..]);
    }

    [Fact]
    public void Load_AHandMadeFile()
    {
        var json = """{ "__metadata__": {"format": "pt"}, "w": {"shape": [2, 2], "dtype": "F32", "data_offsets": [8, 24], "extra": [1]}, "b": {"dtype":"F32","shape":[2],"data_offsets":[0,8]} }   """;
        var path = Write(HandMade(json, LittleEndian(0.5f, -1f, 1f, 2f, 3f, 4f)));

        var file = SafeTensors.Load(path);

        Assert.Equal([1f, 2f, 3f, 4f], file.Tensors["w"].Data);
        Assert.Equal([2, 2], file.Tensors["w"].Shape);
        Assert.Equal([0.5f, -1f], file.Tensors["b"].Data);
        Assert.Equal("pt", file.Metadata["format"]);
    }

    [Theory]
    [InlineData("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 1_000_000UL, "beyond the end of the file")]
    [InlineData("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 1UL << 40, "exceeds the limit")]
    [InlineData("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"v":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", null, "overlap")]
    [InlineData("""{"w":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}}""", null, "out of range")]
    [InlineData("""{"w":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}""", null, "out of range")]
    [InlineData("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]""", null, "not valid JSON")]
    [InlineData("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}} trailing""", null, "not valid JSON")]
    [InlineData("""[1, 2]""", null, "not a JSON object")]
    [InlineData("""{"w":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}}""", null, "dtype F16, which Kiln does not read; only F32")]
    [InlineData("""{"w":{"dtype":"XYZ","shape":[2],"data_offsets":[0,8]}}""", null, "unknown dtype 'XYZ'")]
    [InlineData("""{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", null, "shape [3] (3 F32 values), but its data_offsets span 8 bytes")]
    [InlineData("""{"w":{"dtype":"F32","shape":[65536,65536,65536],"data_offsets":[0,8]}}""", null, "data_offsets span 8 bytes")]
    [InlineData("""{"w":{"dtype":"F32","shape":[2]}}""", null, "lacks data_offsets")]
    [InlineData("""{"w":{"shape":[2],"data_offsets":[0,8]}}""", null, "lacks dtype")]
    [InlineData("""{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}""", null, "'shape' holds something other than an integer")]
    [InlineData("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[0]}}""", null, "expected [begin, end]")]
    [InlineData("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"w":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}""", null, "names 'w' twice")]
    [InlineData("""{"__metadata__":{"n":1}}""", null, "metadata 'n' is a Number")]
    public void Load_HostileHeaders_AreRejectedWithTheProblemNamed(string json, ulong? claimedLength, string problem)
    {
        var path = Write(HandMade(json, new byte[16], claimedLength));

        var error = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path));

        Assert.Contains(path, error.Message);
        Assert.Contains(problem, error.Message);
    }

    [Fact]
    public void Load_AFileShorterThanTheLength_IsRejected()
    {
        var path = Write([1, 2, 3]);

        var error = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path));

        Assert.Contains("3 bytes", error.Message);
    }

    [Fact]
    public void Load_AHostileHeader_AllocatesLittle()
    {
        var path = Write(HandMade("""{"w":{"dtype":"F32","shape":[536870911],"data_offsets":[0,2147483644]}}""", new byte[16]));
        Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path));

        var before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path));

        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1_000_000);
    }

    [Fact]
    public void Save_RejectsDataThatDoesNotFitTheShape_AndNonF32()
    {
        var path = _directory.File("bad.safetensors");
        var none = new Dictionary<string, string>();

        var shape = Assert.Throws<ArgumentException>(() => SafeTensors.Save(path, [new("w", [2, 2], [1f, 2f, 3f])], none));
        var dtype = Assert.Throws<ArgumentException>(() => SafeTensors.Save(path, [new("w", [1], [1f], "F16")], none));
        var duplicate = Assert.Throws<ArgumentException>(() => SafeTensors.Save(path, [new("w", [1], [1f]), new("w", [1], [1f])], none));

        Assert.Contains("3 values", shape.Message);
        Assert.Contains("F16", dtype.Message);
        Assert.Contains("'w'", duplicate.Message);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void Save_OverAnExistingFile_ReplacesIt()
    {
        var path = _directory.File("weights.safetensors");
        var none = new Dictionary<string, string>();

        SafeTensors.Save(path, [new("w", [1], [1f])], none);
        SafeTensors.Save(path, [new("w", [2], [2f, 3f])], none);

        Assert.Equal([2f, 3f], SafeTensors.Load(path).Tensors["w"].Data);
        Assert.Single(Directory.GetFiles(_directory.Path));
    }
}

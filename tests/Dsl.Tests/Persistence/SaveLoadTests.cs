using System.Buffers.Binary;
using System.Reflection;
using System.Text;
using System.Text.Json;
using Kiln.IO;
using Kiln.Tests.IO;
using Kiln.Tests.Mnist;

namespace Kiln.Tests.Persistence;

public sealed class SaveLoadTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private static float[] RandomInputs(int count, int size, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count * size).Select(_ => (float)random.NextDouble())];
    }

    private static int[] Bits(float[] values) => [.. values.Select(BitConverter.SingleToInt32Bits)];

    private static float[] PredictAll<TNet>(TNet net, float[] inputs) where TNet : Network
    {
        var outputs = new float[inputs.Length / net.Info.InputSize * net.Info.OutputSize];
        net.Predict(inputs, outputs);
        return outputs;
    }

    /// <summary>A SmallNet moved away from its initial weights by a few Adam steps.</summary>
    private static SmallNet TrainedSmallNet()
    {
        var net = new SmallNet(seed: 1);
        var inputs = RandomInputs(32, 36, seed: 5);
        var batch = Dataset.FromArrays([.. inputs.Chunk(36)], [.. Enumerable.Range(0, 32).Select(i => i % 3)]).Batch(32).First();
        for (var step = 0; step < 5; step++)
        {
            net.TrainOnBatch(batch);
        }
        return net;
    }

    [Fact]
    public void Round_trip_into_a_fresh_network_gives_bit_identical_predictions()
    {
        var digits = Datasets.Mnist().Test.Take(64).SelectMany(e => e.Features).ToArray();
        var path = _directory.File("mnist.safetensors");
        using var trained = new MnistCnn(seed: 1);
        trained.TrainOnBatch(Datasets.Mnist().Train.Batch(32).First());
        trained.Save(path);

        using var fresh = new MnistCnn(seed: 2);
        Assert.NotEqual(Bits(PredictAll(trained, digits)), Bits(PredictAll(fresh, digits)));
        fresh.Load(path);

        Assert.Equal(Bits(trained.GetParameters()), Bits(fresh.GetParameters()));
        Assert.Equal(Bits(PredictAll(trained, digits)), Bits(PredictAll(fresh, digits)));
    }

    [Fact]
    public void Saved_tensors_have_Keras_names_and_shapes_and_the_metadata_names_the_network()
    {
        var path = _directory.File("mnist.safetensors");
        using var net = new MnistCnn(seed: 1);
        net.Save(path);

        var file = SafeTensors.Load(path);
        var bytes = File.ReadAllBytes(path);
        var headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        using var header = JsonDocument.Parse(bytes.AsMemory(8, headerLength));
        var entries = header.RootElement.EnumerateObject().Where(p => p.Name != "__metadata__").ToList();

        (string Name, int[] Shape)[] expected =
        [
            ("conv2d.kernel", [5, 5, 1, 16]), ("conv2d.bias", [16]),
            ("conv2d_1.kernel", [5, 5, 16, 32]), ("conv2d_1.bias", [32]),
            ("dense.kernel", [1568, 128]), ("dense.bias", [128]),
            ("dense_1.kernel", [128, 10]), ("dense_1.bias", [10]),
        ];
        Assert.Equal(expected.Select(e => e.Name), entries.Select(e => e.Name));
        var offset = 0L;
        var parameters = net.GetParameters();
        foreach (var (name, shape) in expected)
        {
            var entry = header.RootElement.GetProperty(name);
            Assert.Equal("F32", entry.GetProperty("dtype").GetString());
            Assert.Equal(shape, entry.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()));
            var length = shape.Aggregate(1L, (a, b) => a * b) * sizeof(float);
            Assert.Equal([offset, offset + length], entry.GetProperty("data_offsets").EnumerateArray().Select(d => d.GetInt64()));
            var parameter = net.Info.Parameters.Single(p => p.Name == name);
            Assert.Equal(parameters.AsSpan(parameter.Offset, parameter.Length).ToArray(), file.Tensors[name].Data);
            offset += length;
        }
        // Header padded to 8 bytes, then the tensors back to back in parameter order, nothing after them.
        Assert.Equal(0, headerLength % 8);
        Assert.Equal(8 + headerLength + offset, bytes.Length);
        Assert.Equal(4L * net.Info.ParameterCount, offset);

        Assert.Equal("MnistCnn", file.Metadata["kiln.network"]);
        var version = typeof(Network).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;
        Assert.Equal(version, file.Metadata["kiln.version"]);
        // The package version (SemVer, prerelease allowed) and the commit it was built from.
        Assert.Matches(@"^\d+\.\d+\.\d+(-[0-9A-Za-z.]+)?\+[0-9a-f]{7,}$", version);
        Assert.Equal(["kiln.network", "kiln.version"], file.Metadata.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Loading_into_other_shapes_lists_every_difference_and_changes_nothing()
    {
        var path = _directory.File("small.safetensors");
        using (var small = TrainedSmallNet())
        {
            small.Save(path);
        }
        using var wider = new WiderNet(seed: 1);
        var before = wider.GetParameters();

        var error = Assert.Throws<InvalidDataException>(() => wider.Load(path));

        Assert.Equal(
        [
            $"'{path}' does not fit WiderNet:",
            "  'conv2d.kernel' has shape (3, 3, 1, 2), expected (5, 5, 1, 3)",
            "  'conv2d.bias' has shape (2), expected (3)",
            "  'dense.kernel' has shape (72, 4), expected (108, 5)",
            "  'dense.bias' has shape (4), expected (5)",
            "  'dense_1.kernel' has shape (4, 3), expected (5, 3)",
        ], error.Message.Split(Environment.NewLine));
        Assert.Equal(before, wider.GetParameters());
    }

    [Fact]
    public void Loading_into_other_layer_names_lists_missing_and_unexpected_tensors()
    {
        var path = _directory.File("small.safetensors");
        using (var small = TrainedSmallNet())
        {
            small.Save(path);
        }
        using var renamed = new RenamedNet(seed: 1);
        var before = renamed.GetParameters();

        var error = Assert.Throws<InvalidDataException>(() => renamed.Load(path));

        Assert.Equal(
        [
            $"'{path}' does not fit RenamedNet:",
            "  missing tensor 'features.kernel' (3, 3, 1, 2)",
            "  missing tensor 'features.bias' (2)",
            "  missing tensor 'classifier.kernel' (4, 3)",
            "  missing tensor 'classifier.bias' (3)",
            "  unexpected tensor 'conv2d.bias' (2)",
            "  unexpected tensor 'conv2d.kernel' (3, 3, 1, 2)",
            "  unexpected tensor 'dense_1.bias' (3)",
            "  unexpected tensor 'dense_1.kernel' (4, 3)",
        ], error.Message.Split(Environment.NewLine));
        Assert.Equal(before, renamed.GetParameters());
    }

    /// <summary>SmallNet's tensor table with the offsets a correct file has; tests spoil one thing at a time.</summary>
    private static readonly (string Name, int[] Shape)[] SmallNetTensors =
    [
        ("conv2d.kernel", [3, 3, 1, 2]), ("conv2d.bias", [2]), ("dense.kernel", [72, 4]),
        ("dense.bias", [4]), ("dense_1.kernel", [4, 3]), ("dense_1.bias", [3]),
    ];

    private sealed record HeaderEntry(string DType, string Shape, long Begin, long End);

    private static string SmallNetHeader(string? spoiled = null, Func<HeaderEntry, HeaderEntry>? spoil = null)
    {
        var parts = new List<string>();
        var offset = 0L;
        foreach (var (name, shape) in SmallNetTensors)
        {
            var end = offset + shape.Aggregate(1L, (a, b) => a * b) * 4;
            var entry = new HeaderEntry("F32", string.Join(",", shape), offset, end);
            if (name == spoiled)
            {
                entry = spoil!(entry);
            }
            parts.Add($"\"{name}\":{{\"dtype\":\"{entry.DType}\",\"shape\":[{entry.Shape}],\"data_offsets\":[{entry.Begin},{entry.End}]}}");
            offset = end;
        }
        return "{" + string.Join(",", parts) + "}";
    }

    private const int SmallNetBytes = (18 + 2 + 288 + 4 + 12 + 3) * 4;

    private static byte[] Assemble(string json, int dataBytes, ulong? claimedLength = null)
    {
        var header = Encoding.UTF8.GetBytes(json);
        var length = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, claimedLength ?? (ulong)header.Length);
        return [.. length, .. header, .. new byte[dataBytes]];
    }

    public static TheoryData<string, string> HostileFiles() => new()
    {
        { "empty", "too few for the 8-byte header length" },
        { "huge header length", "exceeds the limit" },
        { "header length past the end", "runs beyond the end of the file" },
        { "not JSON", "not valid JSON" },
        { "JSON array", "not a JSON object" },
        { "truncated data", "out of range" },
        { "overlapping tensors", "overlap" },
        { "shape larger than its bytes", "span" },
        { "F16 tensor", "only F32 is supported" },
        { "unknown dtype", "unknown dtype" },
        { "negative offset", "integer in [0," },
        { "name given twice", "twice" },
        { "metadata not strings", "not a string" },
    };

    private static byte[] Hostile(string kind) => kind switch
    {
        "empty" => [],
        "huge header length" => Assemble("{}", 0, ulong.MaxValue),
        "header length past the end" => Assemble(SmallNetHeader(), SmallNetBytes, 1_000_000),
        "not JSON" => Assemble("{\"conv2d.kernel\": {\"dtype\": \"F32\", ", SmallNetBytes),
        "JSON array" => Assemble("[1, 2, 3]", SmallNetBytes),
        "truncated data" => Assemble(SmallNetHeader(), SmallNetBytes - 4),
        "overlapping tensors" => Assemble(SmallNetHeader("dense.bias", e => e with { Begin = e.Begin - 4, End = e.End - 4 }), SmallNetBytes),
        "shape larger than its bytes" => Assemble(SmallNetHeader("dense.kernel", e => e with { Shape = "2147483647,2147483647" }), SmallNetBytes),
        "F16 tensor" => Assemble(SmallNetHeader("conv2d.bias", e => e with { DType = "F16" }), SmallNetBytes),
        "unknown dtype" => Assemble(SmallNetHeader("conv2d.bias", e => e with { DType = "Q7" }), SmallNetBytes),
        "negative offset" => Assemble(SmallNetHeader("dense.bias", e => e with { Begin = -8 }), SmallNetBytes),
        "name given twice" => Assemble(SmallNetHeader()[..^1] + ",\"dense.bias\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", SmallNetBytes),
        "metadata not strings" => Assemble("{\"__metadata__\":{\"kiln.network\":42}," + SmallNetHeader()[1..], SmallNetBytes),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    [Fact]
    public void The_untouched_hand_made_file_loads()
    {
        // The control for the hostile files below: only the spoiled part makes them fail.
        var path = _directory.File("zeros.safetensors");
        File.WriteAllBytes(path, Assemble(SmallNetHeader(), SmallNetBytes));
        using var net = new SmallNet(seed: 1);

        net.Load(path);

        Assert.All(net.GetParameters(), v => Assert.Equal(0f, v));
    }

    [Theory]
    [MemberData(nameof(HostileFiles))]
    public void Hostile_files_are_rejected_and_leave_the_weights_alone(string kind, string reason)
    {
        var path = _directory.File(kind.Replace(' ', '-') + ".safetensors");
        File.WriteAllBytes(path, Hostile(kind));
        using var net = new SmallNet(seed: 1);
        var before = net.GetParameters();

        var error = Assert.Throws<InvalidDataException>(() => net.Load(path));

        Assert.Contains($"'{path}' is not a valid safetensors file", error.Message, StringComparison.Ordinal);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.Equal(before, net.GetParameters());
    }

    [Fact]
    public void Loading_a_missing_file_names_it()
    {
        using var net = new SmallNet(seed: 1);
        var path = _directory.File("absent.safetensors");

        var error = Assert.Throws<FileNotFoundException>(() => net.Load(path));

        Assert.Equal(path, error.FileName);
    }

    [Fact]
    public void A_crash_after_the_new_file_is_written_leaves_the_old_file_and_no_temporary_file()
    {
        var path = _directory.File("weights.safetensors");
        using var old = TrainedSmallNet();
        old.Save(path);
        var oldBytes = File.ReadAllBytes(path);
        using var newer = new SmallNet(seed: 2);
        var newerPath = _directory.File("newer.safetensors");
        newer.Save(newerPath);
        var newerBytes = File.ReadAllBytes(newerPath);
        File.Delete(newerPath);

        // Network.Save writes through AtomicFile; this writer dies after the whole new file is on disk, before the rename.
        var crash = Assert.Throws<IOException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write(newerBytes);
            stream.Flush();
            throw new IOException("simulated crash");
        }));

        Assert.Equal("simulated crash", crash.Message);
        Assert.Equal(oldBytes, File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(_directory.Path));
        using var restored = new SmallNet(seed: 3);
        restored.Load(path);
        Assert.Equal(Bits(old.GetParameters()), Bits(restored.GetParameters()));
    }

    [Fact]
    public void A_save_that_fails_at_the_rename_leaves_no_temporary_file()
    {
        // A directory where the file should go makes Network.Save fail after it has written the temporary file.
        var path = _directory.File("occupied");
        Directory.CreateDirectory(path);
        File.WriteAllText(Path.Combine(path, "keep.txt"), "kept");
        using var net = new SmallNet(seed: 1);

        var error = Record.Exception(() => net.Save(path));

        Assert.True(error is IOException or UnauthorizedAccessException, $"unexpected {error?.GetType().Name ?? "success"}: {error?.Message}");
        Assert.Empty(Directory.GetFiles(_directory.Path));
        Assert.Equal("kept", File.ReadAllText(Path.Combine(path, "keep.txt")));
    }
}

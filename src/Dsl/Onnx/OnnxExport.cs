using System.Buffers;
using System.Reflection;
using System.Text.Encodings.Web;
using System.Text.Json;
using Google.Protobuf;
using Kiln.IO;
using Onnx;

namespace Kiln.Onnx;

/// <summary>
/// Writes a network's inference graph as an ONNX model (see docs/FORMATS.md): input <c>input</c> and output
/// <c>output</c> with a symbolic <c>batch</c> dimension and Kiln's channels-last shapes, transposes to NCHW around the
/// operators that need it, the weights as float initializers, and the layers and class names as metadata.
/// Stateless: safe to call from any thread.
/// </summary>
public static class OnnxExport
{
    /// <summary>Opset 17: every operator the layers need (Gelu is spelled with Erf), and the newest that ONNX 1.12's
    /// checker and every ONNX Runtime since 1.12 accept.</summary>
    public const int Opset = 17;

    /// <summary>The IR version that goes with opset 17 (ONNX 1.12).</summary>
    public const int IrVersion = 8;

    /// <summary>Exports to <paramref name="path"/>, replacing it atomically like <see cref="Network.Save"/>.</summary>
    /// <param name="parameters">The flat parameter buffer, in <see cref="NetworkInfo.Parameters"/> order.</param>
    /// <param name="classNames">One name per output, stored in the metadata; null when unknown.</param>
    public static void Save(string path, NetworkInfo info, ReadOnlySpan<float> parameters, IReadOnlyList<string>? classNames = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var model = Build(info, parameters, classNames);
        AtomicFile.Write(path, model.WriteTo);
    }

    /// <summary>The serialized model, as <see cref="Save"/> writes it.</summary>
    public static byte[] ToBytes(NetworkInfo info, ReadOnlySpan<float> parameters, IReadOnlyList<string>? classNames = null) =>
        Build(info, parameters, classNames).ToByteArray();

    internal static ModelProto Build(NetworkInfo info, ReadOnlySpan<float> parameters, IReadOnlyList<string>? classNames)
    {
        ArgumentNullException.ThrowIfNull(info);
        if (parameters.Length != info.ParameterCount)
        {
            throw new ArgumentException($"{info.Name} has {info.ParameterCount} parameters, but {parameters.Length} were given.", nameof(parameters));
        }
        if (info.Layers.Count == 0)
        {
            throw new ArgumentException($"{info.Name}'s NetworkInfo lists no layers; only generated networks (or infos built with layers) can be exported.", nameof(info));
        }
        if (classNames is not null && classNames.Count != info.OutputSize)
        {
            throw new ArgumentException($"{info.Name} has {info.OutputSize} outputs, but {classNames.Count} class names were given.", nameof(classNames));
        }
        var unknown = info.Layers.Where(l => !OnnxLayers.Exporters.ContainsKey(l.Type)).Select(l => $"'{l.Name}' ({l.Type})").ToList();
        if (unknown.Count > 0)
        {
            throw new NotSupportedException($"{info.Name}: no ONNX export for layer {string.Join(", ", unknown)}; exported types are {string.Join(", ", OnnxLayers.Exporters.Keys)}.");
        }

        var g = new OnnxGraphBuilder(info, parameters.ToArray());
        foreach (var layer in info.Layers)
        {
            OnnxLayers.Exporters[layer.Type](g, layer);
        }
        var last = info.Layers[^1];
        g.ToChannelsLast(last);
        g.NameOutput("output");

        g.Graph.Name = info.Name;
        g.Graph.Input.Add(Value("input", info.InputShape));
        g.Graph.Output.Add(Value("output", last.OutputShape));
        var version = typeof(Network).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "Kiln",
            ProducerVersion = version,
            DocString = info.Summary,
            Graph = g.Graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        Metadata(model, "kiln.network", info.Name);
        Metadata(model, "kiln.layers", Json(info.Layers.Select(l => $"{l.Name}:{l.Type}")));
        Metadata(model, "kiln.input_layout", info.InputShape.Count == 3 ? "NHWC" : "NC");
        if (classNames is not null)
        {
            Metadata(model, "kiln.classes", Json(classNames));
        }
        return model;
    }

    private static ValueInfoProto Value(string name, IReadOnlyList<int> perExample)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "batch" });
        shape.Dim.AddRange(perExample.Select(d => new TensorShapeProto.Types.Dimension { DimValue = d }));
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    private static void Metadata(ModelProto model, string key, string value) =>
        model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });

    private static string Json(IEnumerable<string> values)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartArray();
            foreach (var value in values)
            {
                json.WriteStringValue(value);
            }
            json.WriteEndArray();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}

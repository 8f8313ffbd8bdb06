using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;

namespace Kiln.Onnx;

/// <summary>How the tensor flowing between layers is laid out in the exported graph.</summary>
internal enum OnnxLayout
{
    /// <summary>(batch, features).</summary>
    Vector,
    /// <summary>(batch, height, width, channels): Kiln's own layout, the graph's input and output for images.</summary>
    ChannelsLast,
    /// <summary>(batch, channels, height, width): what ONNX's Conv, pools and BatchNormalization read.</summary>
    ChannelsFirst,
}

/// <summary>
/// Grows one ONNX graph layer by layer: names nodes and tensors after their layer, holds the current tensor and
/// its layout, and transposes only where an operator needs the other layout. One builder per export, one thread.
/// </summary>
internal sealed class OnnxGraphBuilder
{
    private readonly NetworkInfo _info;
    private readonly float[] _parameters;
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    public OnnxGraphBuilder(NetworkInfo info, float[] parameters)
    {
        _info = info;
        _parameters = parameters;
        Layout = info.InputShape.Count == 3 ? OnnxLayout.ChannelsLast : OnnxLayout.Vector;
        _names.Add(Current);
    }

    public GraphProto Graph { get; } = new();

    /// <summary>The tensor the next layer reads.</summary>
    public string Current { get; private set; } = "input";

    public OnnxLayout Layout { get; private set; }

    /// <summary>Adds a node reading <paramref name="inputs"/>, makes its output the current tensor and returns it.</summary>
    public string Node(LayerInfo layer, string op, IEnumerable<string> inputs, params AttributeProto[] attributes)
    {
        var name = Unique($"{layer.Name}/{op}");
        var node = new NodeProto { Name = name, OpType = op, Domain = "" };
        node.Input.AddRange(inputs);
        node.Output.Add(name);
        node.Attribute.AddRange(attributes);
        Graph.Node.Add(node);
        Current = name;
        return name;
    }

    /// <summary>A node on the current tensor alone.</summary>
    public string Node(LayerInfo layer, string op, params AttributeProto[] attributes) => Node(layer, op, [Current], attributes);

    /// <summary>Adds a float constant, returns its name.</summary>
    public string Initializer(string name, int[] dims, float[] values, string? doc = null)
    {
        var tensor = new TensorProto { Name = Unique(name), DataType = (int)TensorProto.Types.DataType.Float, RawData = LittleEndian(values) };
        tensor.Dims.AddRange(dims.Select(d => (long)d));
        if (doc is not null)
        {
            tensor.DocString = doc;
        }
        Graph.Initializer.Add(tensor);
        return tensor.Name;
    }

    /// <summary>A scalar constant (rank 0), broadcast by element-wise operators.</summary>
    public string Scalar(LayerInfo layer, string what, float value) => Initializer($"{layer.Name}/{what}", [], [value]);

    /// <summary>The values of tensor <c>layer.suffix</c>, checked against the shape the layer's config implies.</summary>
    public float[] Parameter(LayerInfo layer, string suffix, params int[] shape)
    {
        var name = $"{layer.Name}.{suffix}";
        var parameter = _info.Parameters.FirstOrDefault(p => p.Name == name)
            ?? throw new InvalidOperationException($"{_info.Name}: layer '{layer.Name}' ({layer.Type}) needs tensor '{name}' {Network.Shape(shape)}, which the parameter table lacks.");
        if (!parameter.Shape.SequenceEqual(shape))
        {
            throw new InvalidOperationException($"{_info.Name}: tensor '{name}' has shape {Network.Shape(parameter.Shape)}, but layer '{layer.Name}' ({layer.Type}) implies {Network.Shape(shape)}.");
        }
        return _parameters.AsSpan(parameter.Offset, parameter.Length).ToArray();
    }

    /// <summary>Transposes the current image tensor to NCHW unless it is already.</summary>
    public void ToChannelsFirst(LayerInfo layer)
    {
        if (Layout == OnnxLayout.ChannelsLast)
        {
            Node(layer, "Transpose", Ints("perm", 0, 3, 1, 2));
            Layout = OnnxLayout.ChannelsFirst;
        }
    }

    /// <summary>Transposes the current image tensor back to Kiln's NHWC unless it is already.</summary>
    public void ToChannelsLast(LayerInfo layer)
    {
        if (Layout == OnnxLayout.ChannelsFirst)
        {
            Node(layer, "Transpose", Ints("perm", 0, 2, 3, 1));
            Layout = OnnxLayout.ChannelsLast;
        }
    }

    /// <summary>Records that the current tensor is now (batch, features).</summary>
    public void BecomeVector() => Layout = OnnxLayout.Vector;

    /// <summary>The axis that holds channels (or features) in the current layout.</summary>
    public long ChannelAxis => Layout == OnnxLayout.ChannelsFirst ? 1 : -1;

    /// <summary>Renames the last node's output to <paramref name="name"/>, or copies the input when no node ran.</summary>
    public void NameOutput(string name)
    {
        var last = Graph.Node.LastOrDefault(n => n.Output.Contains(Current));
        if (last is null)
        {
            var copy = new NodeProto { Name = name, OpType = "Identity", Domain = "" };
            copy.Input.Add(Current);
            copy.Output.Add(name);
            Graph.Node.Add(copy);
        }
        else
        {
            last.Output[last.Output.IndexOf(Current)] = name;
        }
        Current = name;
    }

    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Float(string name, double value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = (float)value };

    public static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    private string Unique(string name)
    {
        var candidate = name;
        for (var i = 1; !_names.Add(candidate); i++)
        {
            candidate = $"{name}_{i}";
        }
        return candidate;
    }

    private static ByteString LittleEndian(float[] values)
    {
        if (!BitConverter.IsLittleEndian)
        {
            var swapped = new int[values.Length];
            BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<float, int>(values.AsSpan()), swapped);
            return ByteString.CopyFrom(MemoryMarshal.AsBytes(swapped.AsSpan()));
        }
        return ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan()));
    }
}

using System.Linq;

namespace Kiln.Generator.Model;

/// <summary>A descriptor's own settings for one layer after inference (units, kernel size, …), compared by value.</summary>
internal abstract record LayerConfig;

/// <summary>
/// One tensor a layer declares: its name within the layer (<c>kernel</c>, <c>moving_mean</c>), Keras' shape and
/// layout, how it starts, whether the optimizer updates it, and Glorot's fans for kernels. The offset in the flat
/// buffer is assigned after every layer is known: trainable tensors first, then the rest.
/// </summary>
internal sealed record ParameterModel(string Tensor, EquatableArray<int> Shape, string Init, bool Trainable, int FanIn = 0, int FanOut = 0, int Offset = 0)
{
    public long Length => Shape.Aggregate(1L, (a, b) => a * b);
}

/// <summary>A layer after shape inference: everything an emitter needs, nothing that moves when whitespace does.</summary>
internal sealed record LayerModel(
    int Index,
    string Kind,
    string Name,
    string TypeName,
    Shape Input,
    Shape Output,
    LayerConfig Config,
    EquatableArray<ParameterModel> Parameters)
{
    public long ParameterCount => Parameters.Sum(p => p.Length);
    public bool HasTrainable => Parameters.Any(p => p.Trainable);

    /// <summary>The tensor called <paramref name="tensor"/>, or null when the layer has none (a bias with <c>useBias: false</c>).</summary>
    public ParameterModel? Parameter(string tensor) => Parameters.FirstOrDefault(p => p.Tensor == tensor);
}

/// <summary>The input of the emitters: a shape-checked network.</summary>
internal sealed record NetworkModel(
    string Namespace,
    string ClassName,
    string MetadataName,
    string Accessibility,
    LossKind Loss,
    Shape InputShape,
    EquatableArray<LayerModel> Layers,
    int ParameterCount,
    int TrainableParameterCount,
    bool FromLogits = false)
{
    public LayerModel Last => Layers[Layers.Count - 1];
    public int OutputSize => Last.Output.Size;
}

/// <summary>
/// The result of inference: a model when the network is valid, every diagnostic found, and the class's identity, so
/// an invalid network still gets its public surface (and only Kiln's errors show).
/// </summary>
internal sealed record InferenceResult(NetworkModel? Model, EquatableArray<DiagnosticInfo> Diagnostics, InvalidNetwork? Invalid = null);

/// <summary>Enough of an invalid network to emit a class that compiles and throws on construction.</summary>
internal sealed record InvalidNetwork(string Namespace, string ClassName, string MetadataName, string Accessibility, EquatableArray<string> Errors);

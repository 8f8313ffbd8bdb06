namespace Kiln.Generator.Model;

/// <summary>A layer after shape inference: everything an emitter needs, nothing that moves when whitespace does.</summary>
internal sealed record LayerModel(
    int Index,
    LayerKind Kind,
    string Name,
    string TypeName,
    Shape Input,
    Shape Output,
    Activation Activation,
    int Units,
    int KernelSize,
    int Stride,
    int PoolSize,
    Padding Padding,
    int PadTop,
    int PadLeft,
    double Rate,
    int KernelOffset,
    int KernelLength,
    int BiasOffset,
    int BiasLength)
{
    public int ParameterCount => KernelLength + BiasLength;
    public bool HasParameters => ParameterCount > 0;
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
    int ParameterCount)
{
    public LayerModel Last => Layers[Layers.Count - 1];
    public int OutputSize => Last.Output.Size;
}

/// <summary>The result of inference: a model when the network is valid, and every diagnostic found.</summary>
internal sealed record InferenceResult(NetworkModel? Model, EquatableArray<DiagnosticInfo> Diagnostics);

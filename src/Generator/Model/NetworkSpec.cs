namespace Kiln.Generator.Model;

/// <summary>One layer attribute as written by the user, before shape inference.</summary>
internal sealed record LayerSpec(
    LayerKind Kind,
    string? Name,
    LocationInfo? Location,
    EquatableArray<int> Shape = default,
    int Units = 0,
    int Filters = 0,
    int KernelSize = 0,
    int Stride = 1,
    int PoolSize = 0,
    Padding Padding = Padding.Valid,
    Activation Activation = Activation.Linear,
    double Rate = 0);

/// <summary>What the parser reads off a <c>[Network]</c> class: no symbols, only data.</summary>
internal sealed record NetworkSpec(
    string Namespace,
    string ClassName,
    string MetadataName,
    string Accessibility,
    LossKind Loss,
    LocationInfo? Location,
    EquatableArray<LayerSpec> Layers,
    EquatableArray<DiagnosticInfo> Diagnostics);

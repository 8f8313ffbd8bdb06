using System.Collections.Generic;
using System.Linq;
using Kiln.Generator.Model;

namespace Kiln.Generator.Layers;

/// <summary>Every layer kind Kiln knows, by attribute. Adding a layer kind means adding its descriptor here.</summary>
internal static class Registry
{
    /// <summary>The kind of <c>[Input]</c>, which is not a layer of the model but its input shape.</summary>
    public const string Input = "Input";

    public static readonly IReadOnlyList<LayerDescriptor> All =
    [
        new DenseDescriptor(),
        new Conv2DDescriptor(),
        new MaxPool2DDescriptor(),
        new FlattenDescriptor(),
        new DropoutDescriptor(),
        new BatchNormalizationDescriptor(),
        new AveragePooling2DDescriptor(),
        new GlobalAveragePooling2DDescriptor(),
        new GlobalMaxPooling2DDescriptor(),
        new ActivationDescriptor(),
        new ReLUDescriptor(),
        new LeakyReLUDescriptor(),
        new ELUDescriptor(),
        new RescalingDescriptor(),
    ];

    private static readonly Dictionary<string, LayerDescriptor> ByKind = All.ToDictionary(d => d.Kind);

    /// <summary>The attribute metadata names the parser reads, with the kind each one declares.</summary>
    public static readonly IReadOnlyDictionary<string, string> Attributes =
        All.Select(d => d.Kind).Append(Input).ToDictionary(kind => $"Kiln.{kind}Attribute", kind => kind);

    public static LayerDescriptor For(string kind) => ByKind[kind];

    public static LayerDescriptor For(LayerModel layer) => ByKind[layer.Kind];
}

using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace Kiln.Generator;

/// <summary>Every diagnostic Kiln reports. Ids are stable; see AnalyzerReleases.*.md.</summary>
internal static class DiagnosticDescriptors
{
    private const string Category = "Kiln";

    /// <summary>Where each code is explained: one section per code in docs/diagnostics.md.</summary>
    public const string HelpBase = "https://github.com/kiln-dsl/kiln/blob/main/docs/diagnostics.md#";

    private static DiagnosticDescriptor Error(string id, string title, string message) =>
        new(id, title, message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpBase + id.ToLowerInvariant());

    private static DiagnosticDescriptor Warning(string id, string title, string message) =>
        new(id, title, message, Category, DiagnosticSeverity.Warning, isEnabledByDefault: true, helpLinkUri: HelpBase + id.ToLowerInvariant());

    public static readonly DiagnosticDescriptor ClassNotPartial = Error("KLN0001",
        "Network class must be partial",
        "Network class '{0}' must be declared partial so that Kiln can generate its implementation");

    public static readonly DiagnosticDescriptor MissingInput = Error("KLN0002",
        "Network has no input",
        "Network '{0}' has no [Input] layer; its first layer attribute must be [Input(...)]");

    public static readonly DiagnosticDescriptor DuplicateInput = Error("KLN0003",
        "More than one input",
        "Network '{0}' declares more than one [Input]; only the first layer is an input");

    public static readonly DiagnosticDescriptor InputNotFirst = Error("KLN0004",
        "Input is not the first layer",
        "[Input] must be the first layer attribute of '{0}', but it comes after '{1}'");

    public static readonly DiagnosticDescriptor NeedsVector = Error("KLN0005",
        "Layer needs a vector",
        "Layer '{0}' ({1}) needs a vector input but receives shape {2}; add [Flatten] before it");

    public static readonly DiagnosticDescriptor NeedsImage = Error("KLN0006",
        "Layer needs a (height, width, channels) tensor",
        "Layer '{0}' ({1}) needs a (height, width, channels) input but receives shape {2}");

    public static readonly DiagnosticDescriptor EmptyOutput = Error("KLN0007",
        "Layer output is empty",
        "Layer '{0}' ({1}) turns input {2} into an empty output {3}: {4}");

    public static readonly DiagnosticDescriptor NonPositiveArgument = Error("KLN0008",
        "Layer argument must be positive",
        "Layer '{0}': {1} must be positive, but is {2}");

    public static readonly DiagnosticDescriptor DropoutRate = Error("KLN0009",
        "Dropout rate out of range",
        "Layer '{0}': the dropout rate must be in [0, 1), but is {1}");

    public static readonly DiagnosticDescriptor SoftmaxNotLast = Error("KLN0010",
        "Softmax only on the last layer",
        "Layer '{0}' uses softmax, which Kiln supports only on the last layer (fused with the loss)");

    public static readonly DiagnosticDescriptor LossNeedsOutput = Error("KLN0011",
        "The loss does not fit the output activation",
        "Loss {0} needs {1}, but the last layer '{2}' has activation {3}{4}");

    public static readonly DiagnosticDescriptor OutputNotVector = Error("KLN0012",
        "Network output must be a vector",
        "The output of '{0}' has shape {1}, but the loss {2} needs a vector; add [Flatten] and a [Dense] head");

    public static readonly DiagnosticDescriptor NoLayers = Error("KLN0013",
        "Network has no layers",
        "Network '{0}' has nothing after [Input]");

    public static readonly DiagnosticDescriptor SplitDeclaration = Error("KLN0014",
        "Layers spread over partial declarations",
        "Layer attributes of '{0}' are spread over more than one partial declaration, so their order is undefined; keep them on the declaration that has [Network]");

    public static readonly DiagnosticDescriptor InvalidInputShape = Error("KLN0015",
        "Invalid input shape",
        "[Input] takes 1 dimension (features) or 3 (height, width, channels), all positive, but got {0}");

    public static readonly DiagnosticDescriptor NestedOrGeneric = Error("KLN0016",
        "Network class must be top-level and non-generic",
        "Network class '{0}' must be a non-generic class that is not nested in another type");

    public static readonly DiagnosticDescriptor DuplicateLayerName = Error("KLN0017",
        "Duplicate layer name",
        "Layer name '{0}' is used more than once in '{1}'; saved tensors are named after their layers");

    public static readonly DiagnosticDescriptor FlattenOnVector = Warning("KLN0018",
        "Flatten has no effect",
        "[Flatten] on '{0}' receives a vector {1} and has no effect");

    public static readonly DiagnosticDescriptor DropoutLast = Warning("KLN0019",
        "Dropout on the output",
        "Dropout '{0}' is the last layer, so training randomly zeroes the network's outputs");

    public static readonly DiagnosticDescriptor TooManyParameters = Error("KLN0020",
        "Too many parameters",
        "Network '{0}' has {1} parameters, more than the {2} one flat buffer can index; make its layers smaller");

    public static readonly DiagnosticDescriptor ArgumentOutOfRange = Error("KLN0021",
        "Layer argument out of range",
        "Layer '{0}': {1} must be {2}, but is {3}");

    public static readonly IReadOnlyDictionary<string, DiagnosticDescriptor> ById = new[]
    {
        ClassNotPartial, MissingInput, DuplicateInput, InputNotFirst, NeedsVector, NeedsImage, EmptyOutput,
        NonPositiveArgument, DropoutRate, SoftmaxNotLast, LossNeedsOutput, OutputNotVector, NoLayers,
        SplitDeclaration, InvalidInputShape, NestedOrGeneric, DuplicateLayerName, FlattenOnVector, DropoutLast,
        TooManyParameters, ArgumentOutOfRange,
    }.ToDictionary(d => d.Id);
}

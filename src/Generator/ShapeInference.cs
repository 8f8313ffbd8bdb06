using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Kiln.Generator.Layers;
using Kiln.Generator.Model;

namespace Kiln.Generator;

/// <summary>
/// Pure shape inference: layer specs in, shapes, parameter layout and diagnostics out. No Roslyn types beyond the
/// location records, so it is testable on its own. Argument checks run for every layer before shapes are walked, so a
/// network reports all of its independent mistakes at once; the shape walk stops at the first layer without an output.
/// </summary>
internal static class ShapeInference
{
    public static InferenceResult Infer(NetworkSpec spec)
    {
        var diagnostics = new List<DiagnosticInfo>(spec.Diagnostics);
        var model = InferModel(spec, diagnostics);
        var errors = diagnostics.Where(d => DiagnosticDescriptors.ById[d.Id].DefaultSeverity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error).ToList();
        if (errors.Count == 0 && model is not null)
        {
            return new InferenceResult(model, diagnostics.ToEquatableArray());
        }
        // A class that is not partial, nested or generic cannot take a generated half at all.
        if (errors.Any(e => e.Id == DiagnosticDescriptors.ClassNotPartial.Id || e.Id == DiagnosticDescriptors.NestedOrGeneric.Id))
        {
            return new InferenceResult(null, diagnostics.ToEquatableArray());
        }
        var invalid = new InvalidNetwork(spec.Namespace, spec.ClassName, spec.MetadataName, spec.Accessibility,
            errors.Select(e => e.Id).Distinct().ToEquatableArray());
        return new InferenceResult(null, diagnostics.ToEquatableArray(), invalid);
    }

    private static NetworkModel? InferModel(NetworkSpec spec, List<DiagnosticInfo> diagnostics)
    {
        var layers = spec.Layers;
        if (layers.Count == 0 || layers[0].Kind != Registry.Input)
        {
            var misplaced = layers.Select((l, i) => (l, i)).FirstOrDefault(x => x.l.Kind == Registry.Input);
            diagnostics.Add(misplaced.l is null
                ? DiagnosticInfo.Create(DiagnosticDescriptors.MissingInput.Id, spec.Location, spec.ClassName)
                : DiagnosticInfo.Create(DiagnosticDescriptors.InputNotFirst.Id, misplaced.l.Location, spec.ClassName, Registry.For(layers[misplaced.i - 1].Kind).TypeName));
            return null;
        }

        foreach (var extra in layers.Skip(1).Where(l => l.Kind == Registry.Input))
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.DuplicateInput.Id, extra.Location, spec.ClassName));
        }

        var input = layers[0];
        var dims = input.Ints("shape").Items;
        if (!(dims.Length is 1 or 3) || dims.Any(d => d <= 0))
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidInputShape.Id, input.Location, Shape.Format(dims.ToArray())));
            return null;
        }
        if (layers.Count == 1)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NoLayers.Id, spec.Location, spec.ClassName));
            return null;
        }

        var inputShape = dims.Length == 1 ? Shape.Vector(dims[0]) : Shape.Image(dims[0], dims[1], dims[2]);
        var names = AssignNames(spec, diagnostics);
        var lastIndex = layers.Count - 1;

        // Argument checks first, for every layer: they need no shapes.
        var valid = new bool[layers.Count];
        for (var i = 1; i < layers.Count; i++)
        {
            if (layers[i].Kind == Registry.Input)
            {
                continue;
            }
            var before = diagnostics.Count;
            var descriptor = Registry.For(layers[i].Kind);
            descriptor.Validate(new LayerContext(layers[i], descriptor, names[i], default, i == lastIndex, diagnostics));
            valid[i] = !diagnostics.Skip(before).Any(IsError);
        }

        var inferred = new List<(LayerSpec Spec, string Name, Shape Input, Inferred Result)>();
        var shape = inputShape;
        for (var i = 1; i < layers.Count; i++)
        {
            var layer = layers[i];
            if (layer.Kind == Registry.Input)
            {
                continue;
            }
            var descriptor = Registry.For(layer.Kind);
            var result = valid[i] ? descriptor.Infer(new LayerContext(layer, descriptor, names[i], shape, i == lastIndex, diagnostics)) : null;
            if (result is null)
            {
                return null;
            }
            inferred.Add((layer, names[i], shape, result));
            shape = result.Output;
        }

        var models = Layout(inferred, out var total, out var trainable);
        CheckHead(spec, models[models.Count - 1], diagnostics);
        if (total > int.MaxValue)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.TooManyParameters.Id, spec.Location, spec.ClassName,
                total.ToString("N0", CultureInfo.InvariantCulture), int.MaxValue.ToString("N0", CultureInfo.InvariantCulture)));
            return null;
        }
        return new NetworkModel(spec.Namespace, spec.ClassName, spec.MetadataName, spec.Accessibility, spec.Loss,
            inputShape, models.ToEquatableArray(), (int)total, (int)trainable, spec.FromLogits);
    }

    /// <summary>Places every tensor in the flat buffer: trainable tensors first (the optimizer's prefix), then the rest.</summary>
    private static List<LayerModel> Layout(List<(LayerSpec Spec, string Name, Shape Input, Inferred Result)> layers, out long total, out long trainable)
    {
        trainable = layers.Sum(l => l.Result.Parameters.Where(p => p.Trainable).Sum(p => p.Length));
        long nextTrainable = 0, nextState = trainable;
        var models = new List<LayerModel>();
        foreach (var (spec, name, input, result) in layers)
        {
            var placed = new List<ParameterModel>();
            foreach (var p in result.Parameters)
            {
                ref var next = ref p.Trainable ? ref nextTrainable : ref nextState;
                // Offsets past int range only occur in networks refused below for their size.
                placed.Add(p with { Offset = next > int.MaxValue ? 0 : (int)next });
                next += p.Length;
            }
            models.Add(new LayerModel(models.Count, spec.Kind, name, Registry.For(spec.Kind).TypeName, input, result.Output, result.Config, placed.ToEquatableArray()));
        }
        total = nextState;
        return models;
    }

    private static bool IsError(DiagnosticInfo d) => DiagnosticDescriptors.ById[d.Id].DefaultSeverity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error;

    private static void CheckHead(NetworkSpec spec, LayerModel last, List<DiagnosticInfo> diagnostics)
    {
        var lastSpec = spec.Layers[spec.Layers.Count - 1];
        if (last.Output.Rank != 1)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.OutputNotVector.Id, lastSpec.Location, spec.ClassName, last.Output.ToString(), spec.Loss.ToString()));
            return;
        }
        var activation = Registry.For(last).ActivationOf(last);
        if (HeadMismatch(spec.Loss, spec.FromLogits, activation, last.Output.Size) is { } problem)
        {
            var named = last.Config is DenseConfig or Conv2DConfig ? activation.ToString() : $"none ({last.TypeName})";
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.LossNeedsOutput.Id, lastSpec.Location, spec.Loss.ToString(), problem.Needs, last.Name, named, problem.Hint));
        }
    }

    /// <summary>
    /// What the loss needs of the head when <paramref name="activation"/> does not fit, else null. Crossentropies take a
    /// softmax (categorical) or sigmoid (binary) head, which the loss fuses, or logits from a linear head with
    /// <c>FromLogits</c> (Keras' <c>from_logits=True</c>); the regression losses take any head and have no logits.
    /// </summary>
    private static (string Needs, string Hint)? HeadMismatch(LossKind loss, bool fromLogits, Activation activation, int size)
    {
        const string Logits = "a linear output (FromLogits = true)";
        if (loss is LossKind.MeanSquaredError or LossKind.MeanAbsoluteError)
        {
            return fromLogits ? ("no FromLogits", "; a regression loss compares the outputs themselves: remove FromLogits = true") : null;
        }
        if (fromLogits)
        {
            return activation == Activation.Linear ? null : (Logits, $"; FromLogits = true means the loss applies the {(loss == LossKind.BinaryCrossentropy ? "sigmoid" : "softmax")} itself: make the last layer linear, or remove FromLogits");
        }
        if (loss == LossKind.BinaryCrossentropy)
        {
            return activation == Activation.Sigmoid ? null : ("a sigmoid output", activation == Activation.Linear
                ? $"; end the network with [Dense({size}, Activation.Sigmoid)], or set FromLogits = true to train on logits"
                : $"; end the network with [Dense({size}, Activation.Sigmoid)] for independent yes/no outputs, or use a categorical loss with a softmax");
        }
        return activation == Activation.Softmax ? null : ("a softmax output", activation == Activation.Sigmoid
            ? "; for independent yes/no outputs with targets 0 and 1 use [Network(Loss = Loss.BinaryCrossentropy)]"
            : $"; end the network with [Dense({size}, Activation.Softmax)], or use Loss = Loss.MeanSquaredError for regression");
    }

    /// <summary>Keras-style automatic names (<c>dense</c>, <c>dense_1</c>, …) for layers without an explicit one.</summary>
    private static string[] AssignNames(NetworkSpec spec, List<DiagnosticInfo> diagnostics)
    {
        var names = new string[spec.Layers.Count];
        var counters = new Dictionary<string, int>();
        var seen = new HashSet<string>();
        for (var i = 0; i < spec.Layers.Count; i++)
        {
            var layer = spec.Layers[i];
            var name = layer.Name;
            if (string.IsNullOrEmpty(name))
            {
                var prefix = layer.Kind == Registry.Input ? "input_layer" : Registry.For(layer.Kind).NamePrefix;
                counters.TryGetValue(prefix, out var n);
                counters[prefix] = n + 1;
                name = n == 0 ? prefix : $"{prefix}_{n.ToString(CultureInfo.InvariantCulture)}";
            }
            if (layer.Kind != Registry.Input && !seen.Add(name!))
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.DuplicateLayerName.Id, layer.Location, name!, spec.ClassName));
            }
            names[i] = name!;
        }
        return names;
    }
}

using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using Kiln.Generator.Model;

namespace Kiln.Generator;

/// <summary>
/// Pure shape inference: layer specs in, shapes, parameter layout and diagnostics out.
/// No Roslyn types beyond the location records, so it is testable on its own.
/// </summary>
internal static class ShapeInference
{
    public static InferenceResult Infer(NetworkSpec spec)
    {
        var diagnostics = new List<DiagnosticInfo>(spec.Diagnostics);
        var layers = spec.Layers;

        if (layers.Count == 0 || layers[0].Kind != LayerKind.Input)
        {
            var misplaced = layers.Select((l, i) => (l, i)).FirstOrDefault(x => x.l.Kind == LayerKind.Input);
            diagnostics.Add(misplaced.l is null
                ? DiagnosticInfo.Create(DiagnosticDescriptors.MissingInput.Id, spec.Location, spec.ClassName)
                : DiagnosticInfo.Create(DiagnosticDescriptors.InputNotFirst.Id, misplaced.l.Location, spec.ClassName, TypeName(layers[misplaced.i - 1].Kind)));
            return Fail(diagnostics);
        }

        foreach (var extra in layers.Skip(1).Where(l => l.Kind == LayerKind.Input))
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.DuplicateInput.Id, extra.Location, spec.ClassName));
        }

        var input = layers[0];
        var dims = input.Shape.Items;
        if (!(dims.Length is 1 or 3) || dims.Any(d => d <= 0))
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidInputShape.Id, input.Location, Shape.Format(dims.ToArray())));
            return Fail(diagnostics);
        }
        if (layers.Count == 1)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NoLayers.Id, spec.Location, spec.ClassName));
            return Fail(diagnostics);
        }

        var inputShape = dims.Length == 1 ? Shape.Vector(dims[0]) : Shape.Image(dims[0], dims[1], dims[2]);
        var names = AssignNames(spec, diagnostics);
        var models = ImmutableArray.CreateBuilder<LayerModel>();
        var shape = inputShape;
        var offset = 0;
        var shapeKnown = true;

        for (var i = 1; i < layers.Count && shapeKnown; i++)
        {
            var layer = layers[i];
            if (layer.Kind == LayerKind.Input)
            {
                continue;
            }
            var name = names[i];
            var isLast = i == layers.Count - 1;
            if (layer.Activation == Activation.Softmax && !isLast)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.SoftmaxNotLast.Id, layer.Location, name));
            }

            var model = InferLayer(layer, models.Count, name, shape, offset, diagnostics);
            if (model is null)
            {
                shapeKnown = false;
                break;
            }
            models.Add(model);
            offset += model.ParameterCount;
            shape = model.Output;
        }

        if (shapeKnown)
        {
            CheckHead(spec, models, names[layers.Count - 1], diagnostics);
        }

        if (diagnostics.Any(d => DiagnosticDescriptors.ById[d.Id].DefaultSeverity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error))
        {
            return Fail(diagnostics);
        }

        var network = new NetworkModel(spec.Namespace, spec.ClassName, spec.MetadataName, spec.Accessibility, spec.Loss,
            inputShape, models.ToImmutable(), offset);
        return new InferenceResult(network, diagnostics.ToEquatableArray());
    }

    private static InferenceResult Fail(List<DiagnosticInfo> diagnostics) => new(null, diagnostics.ToEquatableArray());

    private static LayerModel? InferLayer(LayerSpec layer, int index, string name, Shape input, int offset, List<DiagnosticInfo> diagnostics)
    {
        var type = TypeName(layer.Kind);
        LayerModel Make(Shape output, int kernelLength = 0, int biasLength = 0, int kernel = 0, int stride = 0, int pool = 0, int padTop = 0, int padLeft = 0) =>
            new(index, layer.Kind, name, type, input, output, layer.Activation, layer.Units, kernel, stride, pool, layer.Padding,
                padTop, padLeft, layer.Rate, offset, kernelLength, offset + kernelLength, biasLength);

        bool Positive(int value, string what)
        {
            if (value > 0)
            {
                return true;
            }
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NonPositiveArgument.Id, layer.Location, name, what, Invariant(value)));
            return false;
        }

        switch (layer.Kind)
        {
            case LayerKind.Dense:
                if (!Positive(layer.Units, "units"))
                {
                    return null;
                }
                if (input.Rank != 1)
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NeedsVector.Id, layer.Location, name, type, input.ToString()));
                    return null;
                }
                return Make(Shape.Vector(layer.Units), input.Size * layer.Units, layer.Units);

            case LayerKind.Conv2D:
            {
                var ok = Positive(layer.Filters, "filters") & Positive(layer.KernelSize, "kernel size") & Positive(layer.Stride, "stride");
                if (!ok || !RequireImage(layer, name, type, input, diagnostics))
                {
                    return null;
                }
                var (oh, padTop) = Window(input.Height, layer.KernelSize, layer.Stride, layer.Padding);
                var (ow, padLeft) = Window(input.Width, layer.KernelSize, layer.Stride, layer.Padding);
                var output = Shape.Image(oh, ow, layer.Filters);
                if (!CheckNonEmpty(layer, name, type, input, output, "kernel", layer.KernelSize, diagnostics))
                {
                    return null;
                }
                var kernelLength = layer.KernelSize * layer.KernelSize * input.Channels * layer.Filters;
                return Make(output, kernelLength, layer.Filters, layer.KernelSize, layer.Stride, 0, padTop, padLeft);
            }

            case LayerKind.MaxPool2D:
            {
                var stride = layer.Stride == 0 ? layer.PoolSize : layer.Stride;
                var ok = Positive(layer.PoolSize, "pool size") & Positive(stride, "stride");
                if (!ok || !RequireImage(layer, name, type, input, diagnostics))
                {
                    return null;
                }
                var (oh, padTop) = Window(input.Height, layer.PoolSize, stride, layer.Padding);
                var (ow, padLeft) = Window(input.Width, layer.PoolSize, stride, layer.Padding);
                var output = Shape.Image(oh, ow, input.Channels);
                if (!CheckNonEmpty(layer, name, type, input, output, "pool window", layer.PoolSize, diagnostics))
                {
                    return null;
                }
                return Make(output, 0, 0, 0, stride, layer.PoolSize, padTop, padLeft);
            }

            case LayerKind.Flatten:
                if (input.Rank == 1)
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.FlattenOnVector.Id, layer.Location, name, input.ToString()));
                }
                return Make(Shape.Vector(input.Size));

            case LayerKind.Dropout:
                if (!(layer.Rate >= 0 && layer.Rate < 1))
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.DropoutRate.Id, layer.Location, name, layer.Rate.ToString("R", CultureInfo.InvariantCulture)));
                    return null;
                }
                return Make(input);

            default:
                return null;
        }
    }

    /// <summary>Keras' window arithmetic: 'valid' fits whole windows, 'same' gives ceil(in / stride) with the odd padding at the end.</summary>
    public static (int Output, int PadBefore) Window(int input, int size, int stride, Padding padding)
    {
        if (padding == Padding.Valid)
        {
            return (input < size ? 0 : (input - size) / stride + 1, 0);
        }
        var output = (input + stride - 1) / stride;
        var padTotal = System.Math.Max((output - 1) * stride + size - input, 0);
        return (output, padTotal / 2);
    }

    private static bool RequireImage(LayerSpec layer, string name, string type, Shape input, List<DiagnosticInfo> diagnostics)
    {
        if (input.Rank == 3)
        {
            return true;
        }
        diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NeedsImage.Id, layer.Location, name, type, input.ToString()));
        return false;
    }

    private static bool CheckNonEmpty(LayerSpec layer, string name, string type, Shape input, Shape output, string what, int size, List<DiagnosticInfo> diagnostics)
    {
        if (output.Height > 0 && output.Width > 0)
        {
            return true;
        }
        var reason = $"a {Invariant(size)}×{Invariant(size)} valid {what} does not fit in {Invariant(input.Height)}×{Invariant(input.Width)}";
        diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.EmptyOutput.Id, layer.Location, name, type, input.ToString(), output.ToString(), reason));
        return false;
    }

    private static void CheckHead(NetworkSpec spec, ImmutableArray<LayerModel>.Builder models, string lastName, List<DiagnosticInfo> diagnostics)
    {
        var lastSpec = spec.Layers[spec.Layers.Count - 1];
        var last = models[models.Count - 1];
        if (last.Output.Rank != 1)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.OutputNotVector.Id, lastSpec.Location, spec.ClassName, last.Output.ToString(), spec.Loss.ToString()));
        }
        else if (spec.Loss != LossKind.MeanSquaredError && last.Activation != Activation.Softmax)
        {
            var activation = last.Kind is LayerKind.Dense or LayerKind.Conv2D ? last.Activation.ToString() : $"none ({last.TypeName})";
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.CrossentropyNeedsSoftmax.Id, lastSpec.Location, spec.Loss.ToString(), lastName, activation));
        }
        if (last.Kind == LayerKind.Dropout)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.DropoutLast.Id, lastSpec.Location, lastName));
        }
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
                var prefix = KerasPrefix(layer.Kind);
                counters.TryGetValue(prefix, out var n);
                counters[prefix] = n + 1;
                name = n == 0 ? prefix : $"{prefix}_{Invariant(n)}";
            }
            if (layer.Kind != LayerKind.Input && !seen.Add(name!))
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.DuplicateLayerName.Id, layer.Location, name!, spec.ClassName));
            }
            names[i] = name!;
        }
        return names;
    }

    private static string KerasPrefix(LayerKind kind) => kind switch
    {
        LayerKind.Input => "input_layer",
        LayerKind.Dense => "dense",
        LayerKind.Conv2D => "conv2d",
        LayerKind.MaxPool2D => "max_pooling2d",
        LayerKind.Flatten => "flatten",
        _ => "dropout",
    };

    public static string TypeName(LayerKind kind) => kind switch
    {
        LayerKind.MaxPool2D => "MaxPooling2D",
        _ => kind.ToString(),
    };

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}

using Kiln.Generator.Layers;
using Kiln.Generator.Model;

namespace Kiln.Generator.Emitters;

/// <summary>What a descriptor's CPU forward emission sees: the writer, the plan, its layer and the input local.</summary>
internal sealed class CpuForward(IndentedWriter w, NetworkModel model, BufferPlan plan, LayerModel layer, string input)
{
    public IndentedWriter W { get; } = w;
    public NetworkModel Model { get; } = model;
    public BufferPlan Plan { get; } = plan;
    public LayerModel Layer { get; } = layer;

    /// <summary>The local holding this layer's input.</summary>
    public string Input { get; } = input;

    /// <summary>The local this layer's emission must define.</summary>
    public string Output => Plan.Output(Layer);

    /// <summary>The output buffer, viewed at the batch's length.</summary>
    public string OutputSpan => Plan.Span(Layer);

    public string Geometry => Plan.Geometry(Layer);

    /// <summary>A slice of the parameters for <paramref name="tensor"/>, or <c>default</c> when the layer has none.</summary>
    public string P(string tensor) => Slice(Layer, tensor, "p");

    public static string Slice(LayerModel layer, string tensor, string buffer) =>
        layer.Parameter(tensor) is { } t ? $"{buffer}.Slice({Code.I(t.Offset)}, {Code.I(t.Length)})" : "default";
}

/// <summary>
/// What a descriptor's CPU backward emission sees. Locals it names through <see cref="X"/>, <see cref="Y"/>,
/// <see cref="Dy"/>, <see cref="Dx"/> and <see cref="OutputOf"/> are the ones the method declares.
/// </summary>
internal sealed class CpuBackward(IndentedWriter w, NetworkModel model, BufferPlan plan, LayerModel layer, Locals locals)
{
    public IndentedWriter W { get; } = w;
    public NetworkModel Model { get; } = model;
    public BufferPlan Plan { get; } = plan;
    public LayerModel Layer { get; } = layer;

    /// <summary>The training-mode input of the layer.</summary>
    public string X => locals.Use(Layer.Index == 0 ? "x" : Plan.Output(Model.Layers[Layer.Index - 1]));

    /// <summary>The training-mode output of the layer.</summary>
    public string Y => OutputOf(Layer);

    /// <summary>The gradient of the layer's output.</summary>
    public string Dy => locals.Use(Plan.Gradient(Layer.Index)!);

    /// <summary>Whether a gradient must flow to the layer's input (something below trains).</summary>
    public bool HasDx => Plan.NeedsInputGradient(Layer.Index);

    /// <summary>The gradient of the layer's input; only valid when <see cref="HasDx"/>.</summary>
    public string Dx => locals.Use(Plan.Gradient(Layer.Index - 1)!);

    /// <summary>Whether this is the head whose activation (softmax, or sigmoid under binary crossentropy) the loss applied.</summary>
    public bool IsFusedHead => Plan.LossActivates(Layer);

    public string OutputOf(LayerModel layer) => locals.Use(Plan.Output(layer));

    public string GradientOf(int index) => locals.Use(Plan.Gradient(index)!);

    public string Geometry => Plan.Geometry(Layer);

    public string P(string tensor) => CpuForward.Slice(Layer, tensor, "p");

    public string G(string tensor) => CpuForward.Slice(Layer, tensor, "g");
}

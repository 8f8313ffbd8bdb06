using Kiln.Generator.Layers;
using Kiln.Generator.Model;

namespace Kiln.Generator.Emitters;

/// <summary>What a descriptor's CUDA forward emission sees.</summary>
internal sealed class CudaForward(IndentedWriter w, BufferPlan plan, KernelTable kernels, LayerModel layer, string input)
{
    public IndentedWriter W { get; } = w;
    public BufferPlan Plan { get; } = plan;
    public KernelTable Kernels { get; } = kernels;
    public LayerModel Layer { get; } = layer;
    public string Input { get; } = input;
    public string Output => Plan.Output(Layer);

    /// <summary>The device address of <paramref name="tensor"/>, or <c>0UL</c> when the layer has none.</summary>
    public string P(string tensor) => Address(Layer, tensor, "Parameters");

    public static string Address(LayerModel layer, string tensor, string buffer) =>
        layer.Parameter(tensor) is { } t ? $"{buffer}({Code.I(t.Offset)})" : "0UL";

    /// <summary><c>Launch(K.Name, geometry, args…);</c> for the kernel <paramref name="expression"/>.</summary>
    public void Launch(string expression, string geometry, string arguments) =>
        W.Line($"Launch({Kernels.Get(expression)}, {Code.CudaGeometry}.{geometry}, {arguments});");
}

/// <summary>What a descriptor's CUDA backward emission sees; like <see cref="CpuBackward"/>, names mark locals used.</summary>
internal sealed class CudaBackward(IndentedWriter w, NetworkModel model, BufferPlan plan, KernelTable kernels, LayerModel layer, Locals locals)
{
    public IndentedWriter W { get; } = w;
    public NetworkModel Model { get; } = model;
    public BufferPlan Plan { get; } = plan;
    public KernelTable Kernels { get; } = kernels;
    public LayerModel Layer { get; } = layer;

    public string X => locals.Use(Layer.Index == 0 ? "Input" : Plan.Output(Model.Layers[Layer.Index - 1]));
    public string Y => locals.Use(Plan.Output(Layer));
    public string Dy => locals.Use(Plan.Gradient(Layer.Index)!);
    public bool HasDx => Plan.NeedsInputGradient(Layer.Index);
    public string Dx => locals.Use(Plan.Gradient(Layer.Index - 1)!);
    public bool IsFusedHead => Plan.LossActivates(Layer);

    public string P(string tensor) => CudaForward.Address(Layer, tensor, "Parameters");
    public string G(string tensor) => CudaForward.Address(Layer, tensor, "Gradients");

    public void Launch(string expression, string geometry, string arguments) =>
        W.Line($"Launch({Kernels.Get(expression)}, {Code.CudaGeometry}.{geometry}, {arguments});");
}

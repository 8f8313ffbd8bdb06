using Kiln.Generator.Emitters;
using Kiln.Generator.Model;

namespace Kiln.Generator.Layers;

internal sealed record FlattenConfig : LayerConfig;

/// <summary><c>[Flatten]</c>: a view of its input in channels-last order; no buffer, no kernel.</summary>
internal sealed class FlattenDescriptor : LayerDescriptor<FlattenConfig>
{
    public override string Kind => "Flatten";
    public override string TypeName => "Flatten";
    public override string NamePrefix => "flatten";
    public override bool IsView => true;

    public override Inferred? Infer(LayerContext c)
    {
        if (c.Input.Rank == 1)
        {
            c.Report(DiagnosticDescriptors.FlattenOnVector, c.Name, c.Input.ToString());
        }
        return new Inferred(Shape.Vector(c.Input.Size), new FlattenConfig());
    }

    public override string Signature(LayerModel layer) => "Flatten";

    public override void EmitCpuForward(CpuForward c) => c.W.Line($"global::System.ReadOnlySpan<float> {c.Output} = {c.Input};");

    public override void EmitCpuBackward(CpuBackward c) => c.W.Line("// a view: its gradient is its input's gradient");

    public override void EmitCudaForward(CudaForward c) => c.W.Line($"var {c.Output} = {c.Input};");

    public override void EmitCudaBackward(CudaBackward c) => c.W.Line("// a view: its gradient is its input's gradient");
}

using System.Collections.Generic;
using Kiln.Generator.Emitters;
using Kiln.Generator.Model;

namespace Kiln.Generator.Layers;

/// <summary>
/// Everything Kiln knows about one layer kind: how its attribute reads, its shape rule and diagnostics, its tensors,
/// its buffers, and the CPU and CUDA calls it emits. Shared code walks descriptors; nothing else switches on kinds.
/// </summary>
internal abstract class LayerDescriptor
{
    /// <summary>The attribute's class name without <c>Attribute</c>: <c>Dense</c> for <c>Kiln.DenseAttribute</c>.</summary>
    public abstract string Kind { get; }

    /// <summary>Keras' class name, shown in the summary: <c>MaxPooling2D</c>.</summary>
    public abstract string TypeName { get; }

    /// <summary>Keras' automatic name prefix: <c>max_pooling2d</c>, then <c>max_pooling2d_1</c>, …</summary>
    public abstract string NamePrefix { get; }

    /// <summary>Checks that need no input shape, so every bad argument of a network is reported at once.</summary>
    public virtual void Validate(LayerContext c)
    {
    }

    /// <summary>The output shape, settings and tensors for this input, or null (with a diagnostic) when there are none.</summary>
    public abstract Inferred? Infer(LayerContext c);

    /// <summary>The activation the layer ends with (the head check and the pool fusion read it).</summary>
    public virtual Activation ActivationOf(LayerModel layer) => Activation.Linear;

    /// <summary>A view of its input (Flatten): no output buffer and the same gradient buffer as its input.</summary>
    public virtual bool IsView => false;

    /// <summary>Buffers besides the output and its gradient (argmax, batch statistics, pre-activations).</summary>
    public virtual IEnumerable<BufferPlan.Buffer> ExtraBuffers(LayerModel layer, BufferPlan plan) => [];

    /// <summary>A short signature for comments and the class's XML doc: <c>Dense(10, Relu)</c>.</summary>
    public abstract string Signature(LayerModel layer);

    /// <summary>Keras' <c>get_config()</c> keys as C# literals, for <c>NetworkInfo.Layers</c>.</summary>
    public virtual IEnumerable<KeyValuePair<string, string>> KerasConfig(LayerModel layer) => [];

    /// <summary>Static fields of the CPU executor (geometries).</summary>
    public virtual void EmitCpuFields(IndentedWriter w, LayerModel layer, BufferPlan plan)
    {
    }

    /// <summary>Objects the CPU executor makes for each batch size, before its buffers (a convolution's plan).</summary>
    public virtual IEnumerable<BufferPlan.CpuObject> CpuObjects(LayerModel layer, BufferPlan plan) => [];

    /// <summary>The CPU executor's scratch size in floats for this layer, as a C# expression of <c>batch</c> and its objects, or null.</summary>
    public virtual string? CpuScratch(LayerModel layer, BufferPlan plan) => null;

    public abstract void EmitCpuForward(CpuForward c);

    public abstract void EmitCpuBackward(CpuBackward c);

    /// <summary>The CUDA workspace size in floats, as a C# expression of <c>batch</c>, or null.</summary>
    public virtual string? CudaWorkspace(LayerModel layer) => null;

    public abstract void EmitCudaForward(CudaForward c);

    public abstract void EmitCudaBackward(CudaBackward c);
}

/// <summary>A descriptor whose settings are the record <typeparamref name="TConfig"/>.</summary>
internal abstract class LayerDescriptor<TConfig> : LayerDescriptor where TConfig : LayerConfig
{
    protected static TConfig Config(LayerModel layer) => (TConfig)layer.Config;
}

/// <summary>What inference produces for one layer.</summary>
internal sealed record Inferred(Shape Output, LayerConfig Config, params ParameterModel[] Parameters);

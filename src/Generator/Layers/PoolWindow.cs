using System.Collections.Generic;
using Kiln.Generator.Emitters;
using Kiln.Generator.Model;

namespace Kiln.Generator.Layers;

/// <summary>The window of a 2-D pool: size, stride (0 in the attribute means the pool size, as Keras' None) and padding.</summary>
internal sealed record PoolConfig(int PoolSize, int Stride, Padding Padding, int PadTop, int PadLeft);

/// <summary>What MaxPool2D and AveragePooling2D share: reading the window, its shape rule, geometry and config.</summary>
internal static class PoolWindow
{
    public static void Validate(LayerContext c)
    {
        var size = c.Spec.Int("poolSize", 2);
        var stride = c.Spec.Int("stride");
        _ = c.Positive(size, "pool size") & c.Positive(stride == 0 ? size : stride, "stride");
    }

    public static (Shape Output, PoolConfig Window)? Infer(LayerContext c)
    {
        var size = c.Spec.Int("poolSize", 2);
        var stride = c.Spec.Int("stride") is var s && s == 0 ? size : s;
        if (size <= 0 || stride <= 0 || !c.RequireImage())
        {
            return null;
        }
        var padding = c.Spec.Enum("padding", Padding.Valid);
        var (oh, padTop) = Windows.Output(c.Input.Height, size, stride, padding);
        var (ow, padLeft) = Windows.Output(c.Input.Width, size, stride, padding);
        var output = Shape.Image(oh, ow, c.Input.Channels);
        return c.NonEmpty(output, "pool window", size) ? (output, new PoolConfig(size, stride, padding, padTop, padLeft)) : null;
    }

    public static string Signature(string kind, PoolConfig p) => $"{kind}({p.PoolSize}, {p.Stride}, {p.Padding})";

    public static IEnumerable<KeyValuePair<string, string>> KerasConfig(PoolConfig p)
    {
        yield return new("pool_size", Code.I(p.PoolSize));
        yield return new("strides", Code.I(p.Stride));
        yield return new("padding", Code.Str(p.Padding.ToString().ToLowerInvariant()));
        yield return new("pad_top", Code.I(p.PadTop));
        yield return new("pad_left", Code.I(p.PadLeft));
    }

    public static void EmitCpuGeometry(IndentedWriter w, LayerModel l, BufferPlan plan, PoolConfig p) =>
        w.Line($"private static readonly {Code.Cpu}.PoolGeometry {plan.Geometry(l)} = new({l.Input.Height}, {l.Input.Width}, {l.Input.Channels}, {l.Output.Height}, {l.Output.Width}, {p.PoolSize}, {p.Stride}, {p.PadTop}, {p.PadLeft});");

    /// <summary>The CUDA template arguments: input, output, window and padding.</summary>
    public static string CudaArgs(LayerModel l, PoolConfig p) =>
        $"{l.Input.Height}, {l.Input.Width}, {l.Input.Channels}, {l.Output.Height}, {l.Output.Width}, {p.PoolSize}, {p.Stride}, {p.PadTop}, {p.PadLeft}";
}

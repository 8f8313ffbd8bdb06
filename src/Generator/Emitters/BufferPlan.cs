using System.Collections.Generic;
using System.Linq;
using System.Text;
using Kiln.Generator.Layers;
using Kiln.Generator.Model;
using Microsoft.CodeAnalysis.CSharp;

namespace Kiln.Generator.Emitters;

/// <summary>
/// Decides which layer outputs and gradients need storage and how they are named: views (Flatten) store nothing,
/// gradients stop below the first trainable layer, and each descriptor adds the buffers it needs.
/// With <c>pooledGradients</c> (the CPU), a Conv2D that feeds a MaxPool2D keeps its output gradient as a sparse
/// PooledGradient instead of a dense buffer, and when the windows do not overlap the two run forward as one kernel, so
/// the convolution's output needs no buffer at all. Also on the CPU, a BatchNormalization followed by an activation
/// layer whose derivative is a function of its output runs as one kernel each way, so neither the normalised output
/// nor its gradient is stored. This is the one place that fusion is decided.
/// </summary>
internal sealed class BufferPlan
{
    public const string ScratchField = "_scratch";

    private static readonly HashSet<string> Reserved = ["x", "y", "p", "g", "batch", "training", "labels", "targets", "correct", "loss", "output"];

    private readonly NetworkModel _model;
    private readonly string[] _ids;
    private readonly string?[] _gradientOwner;
    private readonly bool[] _feedsPool;
    private readonly bool[] _activates;

    public BufferPlan(NetworkModel model, bool pooledGradients = false)
    {
        _model = model;
        ForCpu = pooledGradients;
        var layers = model.Layers;
        _ids = layers.Select(l => Local(l.Name)).ToArray();
        _gradientOwner = new string?[layers.Count];
        _feedsPool = layers.Select(l => pooledGradients && l.Config is Conv2DConfig conv && Code.DerivativeFromOutput(conv.Activation)
            && l.Index + 1 < layers.Count && layers[l.Index + 1].Config is MaxPool2DConfig).ToArray();
        _activates = layers.Select(l => pooledGradients && l.Config is BatchNormalizationConfig && l.Index + 2 < layers.Count
            && Registry.For(layers[l.Index + 1]) is ActivationLayerDescriptor next && Code.DerivativeFromOutput(next.ActivationOf(layers[l.Index + 1]))).ToArray();
        var pooled = new List<(string, LayerModel)>();

        var buffers = new List<Buffer>();
        for (var i = 0; i < layers.Count; i++)
        {
            var layer = layers[i];
            if (!Registry.For(layer).IsView && !ComputedByNext(i))
            {
                buffers.Add(new Buffer("float", $"_{_ids[i]}", $"batch * {layer.Output.Size}"));
            }
            buffers.AddRange(Registry.For(layer).ExtraBuffers(layer, this));
        }
        for (var i = 0; i < layers.Count; i++)
        {
            if (!GradientNeeded(i))
            {
                continue;
            }
            // A view's gradient is its input's gradient, viewed in its own shape.
            if (Registry.For(layers[i]).IsView && i > 0 && GradientNeeded(i - 1))
            {
                continue;
            }
            if (_activates[i])
            {
                continue;
            }
            if (_feedsPool[i])
            {
                if (!ReadsPoolDirectly(i))
                {
                    pooled.Add((PooledGradient(i), layers[i + 1]));
                }
                continue;
            }
            _gradientOwner[i] = _ids[i];
            buffers.Add(new Buffer("float", $"_d_{_ids[i]}", $"batch * {layers[i].Output.Size}"));
        }
        for (var i = 1; i < layers.Count; i++)
        {
            if (Registry.For(layers[i]).IsView && _gradientOwner[i] is null)
            {
                _gradientOwner[i] = _gradientOwner[i - 1];
            }
        }
        var scratch = pooledGradients
            ? layers.Select(l => Registry.For(l).CpuScratch(l, this)).OfType<string>().ToList()
            : [];
        if (scratch.Count > 0)
        {
            buffers.Add(new Buffer("float", ScratchField, scratch.Aggregate((a, b) => $"global::System.Math.Max({a}, {b})")));
        }
        if (Registry.For(model.Last).ActivationOf(model.Last) == Activation.Softmax)
        {
            buffers.Add(new Buffer("float", "_probabilities", $"batch * {model.OutputSize}"));
        }
        Buffers = buffers;
        PooledGradients = pooled;
    }

    public IReadOnlyList<Buffer> Buffers { get; }

    /// <summary>Whether this plan is the CPU executor's (the CUDA executor's plan has no pool fusion or scratch).</summary>
    public bool ForCpu { get; }

    /// <summary>The sparse gradient fields and the pool each one is filled by.</summary>
    public IReadOnlyList<(string Field, LayerModel Pool)> PooledGradients { get; }

    /// <summary>Whether layer <paramref name="index"/> is a Conv2D whose output gradient is a PooledGradient (the next layer is its max pool).</summary>
    public bool FeedsPool(int index) => index >= 0 && _feedsPool[index];

    /// <summary>Whether the Conv2D at <paramref name="index"/> and its max pool run forward as one kernel (non-overlapping windows).</summary>
    public bool PoolsInForward(int index) =>
        FeedsPool(index) && _model.Layers[index + 1].Config is MaxPool2DConfig pool && pool.Stride == pool.PoolSize;

    /// <summary>
    /// Whether the BatchNormalization at <paramref name="index"/> applies the activation layer after it, forward and
    /// backward (not for the last layer, whose output the loss reads, nor Gelu and Swish, whose derivative needs the input).
    /// </summary>
    public bool Activates(int index) => index >= 0 && _activates[index];

    /// <summary>Whether layer <paramref name="index"/>'s output is computed by the next layer's kernel and never stored.</summary>
    public bool ComputedByNext(int index) => PoolsInForward(index) || Activates(index);

    /// <summary>
    /// Whether the Conv2D at <paramref name="index"/> takes its weight gradient straight from its pool's tensors
    /// (Conv2D.BackwardWeightsThroughPool): it feeds a pool with non-overlapping windows and needs no data gradient, so
    /// its sparse gradient has one reader and is never stored.
    /// </summary>
    public bool ReadsPoolDirectly(int index) => PoolsInForward(index) && !NeedsInputGradient(index);

    /// <summary>The field holding the sparse output gradient of the convolution at <paramref name="index"/>.</summary>
    public string PooledGradient(int index) => $"_d_{_ids[index]}_pooled";

    /// <summary>A per-layer field or buffer named after the layer: <c>_conv2d_transformed</c>, <c>_max_pooling2d_argmax</c>.</summary>
    public string Field(LayerModel layer, string suffix) => $"_{_ids[layer.Index]}_{suffix}";

    /// <summary>The layer after <paramref name="layer"/>.</summary>
    public LayerModel Next(LayerModel layer) => _model.Layers[layer.Index + 1];

    /// <summary>The static geometry of a convolution or pool.</summary>
    public string Geometry(LayerModel layer) => $"s_{Identifier(layer.Name)}";

    /// <summary>The local that names a layer's output.</summary>
    public string Output(LayerModel layer) => _ids[layer.Index];

    /// <summary>The local that names the gradient of a layer's output, or null when no gradient flows there.</summary>
    public string? Gradient(int index) => index < 0 || _gradientOwner[index] is null ? null : "d_" + _gradientOwner[index];

    public bool OwnsGradient(int index) => _gradientOwner[index] == _ids[index];

    public string Span(LayerModel layer) => $"View(_{_ids[layer.Index]}, batch * {layer.Output.Size})";
    public string GradientSpan(LayerModel layer) => $"View(_d_{_ids[layer.Index]}, batch * {layer.Output.Size})";

    /// <summary>A per-layer buffer (see <see cref="Field"/>) viewed at <paramref name="length"/>.</summary>
    public string FieldSpan(LayerModel layer, string suffix, string length) => $"View({Field(layer, suffix)}, {length})";

    /// <summary>Whether backpropagation must produce the gradient of layer <paramref name="index"/>'s output.</summary>
    public bool GradientNeeded(int index) => index == _model.Layers.Count - 1 || NeedsInputGradient(index + 1);

    /// <summary>Whether anything below layer <paramref name="index"/> has parameters to train.</summary>
    public bool NeedsInputGradient(int index) => _model.Layers.Take(index).Any(l => l.HasTrainable);

    public static string Identifier(string name)
    {
        var text = new StringBuilder();
        foreach (var c in name)
        {
            text.Append(char.IsLetterOrDigit(c) || c == '_' ? c : '_');
        }
        if (text.Length == 0 || char.IsDigit(text[0]))
        {
            text.Insert(0, '_');
        }
        return text.ToString();
    }

    private static string Local(string name)
    {
        var id = Identifier(name);
        return Reserved.Contains(id) || SyntaxFacts.GetKeywordKind(id) != SyntaxKind.None || SyntaxFacts.GetContextualKeywordKind(id) != SyntaxKind.None ? id + "_" : id;
    }

    /// <summary>A buffer: element type, field, size in elements as a C# expression of <c>batch</c>, and whether it
    /// must read as zeros (the CPU's new arrays are; the CUDA executor clears it).</summary>
    internal sealed record Buffer(string Type, string Field, string SizeExpression, bool Zeroed = false);
}

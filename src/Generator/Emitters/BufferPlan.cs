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
/// With <c>pooledGradients</c> (the CPU), a Conv2D that feeds a MaxPool2D backpropagates through the pool (its plan,
/// Runtime.Cpu's Conv2DPlan, reads the pool's tensors, so the convolution's output gradient has no buffer), and when
/// the windows do not overlap the two run forward as one kernel, so the convolution's output needs no buffer at all.
/// Also on the CPU, a BatchNormalization followed by an activation layer whose derivative is a function of its output
/// runs as one kernel each way, so neither the normalised output nor its gradient is stored; when that activation is a
/// ReLU or LeakyReLU followed by a MaxPool2D, the pool's forward runs all three, so the activated map is not stored
/// either, nor, when the windows do not overlap, its gradient (the normalisation's backward reads the pool's). A linear
/// Conv2D followed by a BatchNormalization runs at inference with the normalisation folded into it. This is the one place
/// that fusion (structure) is decided; which algorithm runs each pass of a convolution is its plan's choice at run time.
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
    private readonly bool[] _activatesIntoPool;
    private readonly bool[] _normalisesThroughPool;
    private readonly bool[] _folds;

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
        // ReLU and LeakyReLU: the normalisation's backward takes their derivative from x, so nothing reads their output
        // but the pool's forward.
        _activatesIntoPool = layers.Select(l => l.Index > 0 && _activates[l.Index - 1] && l.Index + 1 < layers.Count
            && Registry.For(l).ActivationOf(l) is Activation.Relu or Activation.LeakyRelu && layers[l.Index + 1].Config is MaxPool2DConfig).ToArray();
        _normalisesThroughPool = layers.Select(l => _activatesIntoPool[l.Index] && layers[l.Index + 1].Config is MaxPool2DConfig pool && pool.Stride == pool.PoolSize).ToArray();
        _folds = layers.Select(l => pooledGradients && l.Config is Conv2DConfig conv && conv.Activation == Activation.Linear
            && l.Index + 1 < layers.Count && layers[l.Index + 1].Config is BatchNormalizationConfig).ToArray();

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
            if (_feedsPool[i] || _normalisesThroughPool[i])
            {
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
        // Softmax probabilities (a CPU step writes them, CUDA's predictions too); sigmoid ones only CUDA's predictions.
        if (HeadFused(model) && !(pooledGradients && Registry.For(model.Last).ActivationOf(model.Last) == Activation.Sigmoid))
        {
            buffers.Add(new Buffer("float", "_probabilities", $"batch * {model.OutputSize}"));
        }
        Buffers = buffers;
        Objects = pooledGradients ? layers.SelectMany(l => Registry.For(l).CpuObjects(l, this)).ToList() : [];
    }

    public IReadOnlyList<Buffer> Buffers { get; }

    /// <summary>
    /// Whether the loss applies the last layer's activation itself, fused with its gradient: a softmax head (under any
    /// loss, as before binary crossentropy existed), or a sigmoid head under binary crossentropy without FromLogits.
    /// That layer then computes logits, and predictions apply the activation to them (into <c>_probabilities</c>).
    /// </summary>
    public static bool HeadFused(NetworkModel model) => Registry.For(model.Last).ActivationOf(model.Last) switch
    {
        Activation.Softmax => true,
        Activation.Sigmoid => model.Loss == LossKind.BinaryCrossentropy && !model.FromLogits,
        _ => false,
    };

    /// <summary>Whether <paramref name="layer"/> is the head whose activation the loss applies (see <see cref="HeadFused"/>).</summary>
    public bool LossActivates(LayerModel layer) => layer.Index == _model.Layers.Count - 1 && HeadFused(_model);

    /// <summary>The activation <paramref name="layer"/> computes itself: linear for a head the loss activates.</summary>
    public Activation Applied(LayerModel layer, Activation activation) => LossActivates(layer) ? Activation.Linear : activation;

    /// <summary>Whether this plan is the CPU executor's (the CUDA executor's plan has no pool fusion or scratch).</summary>
    public bool ForCpu { get; }

    /// <summary>Objects made for each batch size before the buffers (the CPU's convolution plans, which size the scratch).</summary>
    public IReadOnlyList<CpuObject> Objects { get; }

    /// <summary>Whether layer <paramref name="index"/> is a Conv2D that backpropagates through the max pool after it (its activation's derivative is a function of its output).</summary>
    public bool FeedsPool(int index) => index >= 0 && _feedsPool[index];

    /// <summary>Whether the Conv2D at <paramref name="index"/> and its max pool run forward as one kernel (non-overlapping windows).</summary>
    public bool PoolsInForward(int index) =>
        FeedsPool(index) && _model.Layers[index + 1].Config is MaxPool2DConfig pool && pool.Stride == pool.PoolSize;

    /// <summary>
    /// Whether the BatchNormalization at <paramref name="index"/> applies the activation layer after it, forward and
    /// backward (not for the last layer, whose output the loss reads, nor Gelu and Swish, whose derivative needs the input).
    /// </summary>
    public bool Activates(int index) => index >= 0 && _activates[index];

    /// <summary>
    /// Whether the activation layer at <paramref name="index"/>, applied by the BatchNormalization above it, is a ReLU or
    /// LeakyReLU followed by a MaxPool2D: the pool's forward normalises, activates and pools in one kernel
    /// (<c>BatchNorm.ForwardTrainingPooled</c>), so the activated map is never stored.
    /// </summary>
    public bool ActivatesIntoPool(int index) => index >= 0 && _activatesIntoPool[index];

    /// <summary>
    /// Whether the activation layer at <paramref name="index"/> is computed with the pool below (<see cref="ActivatesIntoPool"/>)
    /// whose windows do not overlap: the normalisation's backward then reads the pool's gradient and argmax
    /// (<c>BatchNorm.BackwardThroughPool</c>), so the activated map's gradient is not stored either.
    /// </summary>
    public bool NormalisesThroughPool(int index) => index >= 0 && _normalisesThroughPool[index];

    /// <summary>Whether layer <paramref name="index"/>'s output is computed by the next layer's kernel and never stored.</summary>
    public bool ComputedByNext(int index) => PoolsInForward(index) || Activates(index) || ActivatesIntoPool(index);

    /// <summary>
    /// Whether the linear Conv2D at <paramref name="index"/> runs at inference with the BatchNormalization after it
    /// folded into its kernel and bias (the normalisation's pass is saved; training still runs both).
    /// </summary>
    public bool FoldsIntoNext(int index) => index >= 0 && _folds[index];

    /// <summary>The forward pass's local holding <paramref name="layer"/>'s input: the last output stored before it, or x.</summary>
    public string InputOf(LayerModel layer)
    {
        for (var i = layer.Index - 1; i >= 0; i--)
        {
            if (!ComputedByNext(i))
            {
                return Output(_model.Layers[i]);
            }
        }
        return "x";
    }

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

    /// <summary>A per-batch object of the CPU executor: its type, field and construction (a C# expression of <c>batch</c>).</summary>
    internal sealed record CpuObject(string Type, string Field, string Construction);
}

using Kiln.Generator.Layers;
using Kiln.Generator.Model;

namespace Kiln.Generator.Emitters;

/// <summary>The CPU executor's entry points and its loss: inference, a training step, evaluation.</summary>
internal static class HeadEmitter
{
    private const string Cpu = Code.Cpu;

    public static void EmitCpu(IndentedWriter w, NetworkModel model, BufferPlan plan)
    {
        var size = model.OutputSize;
        // The activation the loss applies to the head's logits (predictions apply it too), or null.
        var fused = BufferPlan.HeadFused(model) ? Registry.For(model.Last).ActivationOf(model.Last) : (Activation?)null;
        // A view head (Flatten) shares its input's gradient buffer.
        var gradient = $"View(_{plan.Gradient(model.Last.Index)}, batch * {size})";

        w.Open("protected override void Infer(global::System.ReadOnlySpan<float> x, int batch, global::System.Span<float> y)");
        w.Line("var output = Forward(x, batch, training: false);");
        w.Line(fused switch
        {
            Activation.Softmax => $"{Cpu}.Losses.Softmax(output, y, batch, {size});",
            Activation.Sigmoid => $"{Cpu}.Losses.Sigmoid(output, y);",
            _ => "output.CopyTo(y);",
        });
        w.Close();
        w.Line();

        w.Open("protected override double TrainBatch(global::System.ReadOnlySpan<float> x, global::System.ReadOnlySpan<int> labels, global::System.ReadOnlySpan<float> targets, int batch, out int correct)");
        w.Line("var loss = Loss(Forward(x, batch, training: true), labels, targets, batch, out correct);");
        w.Line("Backward(x, batch);");
        w.Line("return loss;");
        w.Close();
        w.Line();

        w.Line("protected override double EvaluateBatch(global::System.ReadOnlySpan<float> x, global::System.ReadOnlySpan<int> labels, global::System.ReadOnlySpan<float> targets, int batch, out int correct) =>");
        w.Line("    Loss(Forward(x, batch, training: false), labels, targets, batch, out correct);");
        w.Line();

        w.Line($"/// <summary>{model.Loss}: the summed loss of the batch, each example's times its weight (<c>Weights</c>, empty for all ones); leaves the gradient of the {(fused is null ? "output" : "logits")} in the last layer's gradient buffer.</summary>");
        w.Open("private double Loss(global::System.ReadOnlySpan<float> output, global::System.ReadOnlySpan<int> labels, global::System.ReadOnlySpan<float> targets, int batch, out int correct)");
        switch (model.Loss)
        {
            case LossKind.SparseCategoricalCrossentropy:
                w.Line($"return {Cpu}.Losses.SoftmaxCrossEntropy(output, labels, Weights, View(_probabilities, batch * {size}), {gradient}, batch, {size}, out correct);");
                break;
            case LossKind.CategoricalCrossentropy:
                w.Line($"return {Cpu}.Losses.SoftmaxCrossEntropy(output, targets, Weights, View(_probabilities, batch * {size}), {gradient}, batch, {size}, out correct);");
                break;
            case LossKind.BinaryCrossentropy:
                w.Line($"return {Cpu}.Losses.SigmoidBinaryCrossEntropy(output, targets, Weights, default, {gradient}, batch, {size}, out correct);");
                break;
            case LossKind.MeanAbsoluteError:
                w.Line("correct = 0;");
                w.Line($"var loss = {Cpu}.Losses.MeanAbsoluteError(output, targets, Weights, {gradient}, batch, {size}, out var absoluteError);");
                w.Line("AddAbsoluteError(absoluteError);");
                w.Line("return loss;");
                break;
            default:
                w.Line("correct = 0;");
                w.Line($"var loss = {Cpu}.Losses.MeanSquaredError(output, targets, Weights, {gradient}, batch, {size}, out var absoluteError);");
                w.Line("AddAbsoluteError(absoluteError);");
                w.Line("return loss;");
                break;
        }
        w.Close();
    }
}

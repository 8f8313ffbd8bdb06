using Kiln.Onnx;

namespace Kiln;

public abstract partial class Network
{
    /// <summary>
    /// Writes the inference graph with the current weights as an ONNX model (opset 17, input <c>input</c> shaped
    /// <c>(batch, …InputShape)</c>, output <c>output</c>; see docs/FORMATS.md), replacing <paramref name="path"/>
    /// atomically. Its outputs are <see cref="Predict(ReadOnlySpan{float})"/>'s: probabilities after a softmax head.
    /// </summary>
    /// <param name="classNames">One name per output, stored in the model's metadata as <c>kiln.classes</c>.</param>
    public void ExportOnnx(string path, IReadOnlyList<string>? classNames = null) =>
        OnnxExport.Save(path, Info, GetParameters(), classNames);
}

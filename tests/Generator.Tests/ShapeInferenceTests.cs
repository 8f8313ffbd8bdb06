using Kiln.Generator.Model;
using Kiln.Generator;
using Kiln.Generator.Layers;

namespace Kiln.Generator.Tests;

/// <summary>Shape inference is a pure function: tested here without Roslyn.</summary>
public class ShapeInferenceTests
{
    [Theory]
    // Keras: 'same' gives ceil(in / stride) and puts the odd padding at the end.
    [InlineData(28, 5, 1, 1, 28, 2)]
    [InlineData(28, 2, 2, 1, 14, 0)]
    [InlineData(7, 2, 2, 1, 4, 0)]
    [InlineData(7, 3, 2, 1, 4, 1)]
    [InlineData(4, 3, 2, 1, 2, 0)]
    [InlineData(10, 4, 3, 1, 4, 1)]
    // 'valid' fits whole windows only.
    [InlineData(9, 3, 2, 0, 4, 0)]
    [InlineData(11, 3, 2, 0, 5, 0)]
    [InlineData(3, 5, 1, 0, 0, 0)]
    public void Window_arithmetic_follows_keras(int input, int size, int stride, int padding, int output, int padBefore)
    {
        Assert.Equal((output, padBefore), Windows.Output(input, size, stride, (Model.Padding)padding));
    }

    [Fact]
    public void Mnist_cnn_shapes_offsets_and_counts()
    {
        static LayerSpec L(string kind, params (string Name, object Value)[] arguments) =>
            new(kind, null, null, arguments.Select(a => new LayerArgument(a.Name, a.Value)).ToEquatableArray());
        var same = (int)Model.Padding.Same;
        var relu = (int)Model.Activation.Relu;
        var spec = new NetworkSpec("", "Net", "Net", "public", LossKind.SparseCategoricalCrossentropy, null,
            new[]
            {
                L("Input", ("shape", new[] { 28, 28, 1 }.ToEquatableArray())),
                L("Conv2D", ("filters", 16), ("kernelSize", 5), ("padding", same), ("activation", relu)),
                L("MaxPool2D", ("poolSize", 2), ("stride", 2)),
                L("Conv2D", ("filters", 32), ("kernelSize", 5), ("padding", same), ("activation", relu)),
                L("MaxPool2D", ("poolSize", 2), ("stride", 2)),
                L("Flatten"),
                L("Dense", ("units", 128), ("activation", relu)),
                L("Dropout", ("rate", 0.4)),
                L("Dense", ("units", 10), ("activation", (int)Model.Activation.Softmax)),
            }.ToEquatableArray(), default);

        var result = ShapeInference.Infer(spec);

        Assert.Empty(result.Diagnostics);
        var model = result.Model!;
        Assert.Equal(215_370, model.ParameterCount);
        Assert.Equal(
            ["conv2d", "max_pooling2d", "conv2d_1", "max_pooling2d_1", "flatten", "dense", "dropout", "dense_1"],
            model.Layers.Select(l => l.Name));
        Assert.Equal(
            [Shape.Image(28, 28, 16), Shape.Image(14, 14, 16), Shape.Image(14, 14, 32), Shape.Image(7, 7, 32), Shape.Vector(1568), Shape.Vector(128), Shape.Vector(128), Shape.Vector(10)],
            model.Layers.Select(l => l.Output));
        // Parameters sit back to back: kernel then bias, layer by layer.
        Assert.Equal([0, 400, 416, 13216, 13248, 213952, 214080, 215360], model.Layers.SelectMany(l => l.Parameters).Select(p => p.Offset));
    }
}

using Kiln.Generator.Model;
using Kiln.Generator;

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
        Assert.Equal((output, padBefore), ShapeInference.Window(input, size, stride, (Model.Padding)padding));
    }

    [Fact]
    public void Mnist_cnn_shapes_offsets_and_counts()
    {
        LayerSpec L(LayerKind kind, int units = 0, int filters = 0, int kernel = 0, int pool = 0, int stride = 1, Model.Activation act = Model.Activation.Linear, double rate = 0) =>
            new(kind, null, null, Units: units, Filters: filters, KernelSize: kernel, PoolSize: pool, Stride: stride, Padding: Model.Padding.Same, Activation: act, Rate: rate);
        var spec = new NetworkSpec("", "Net", "Net", "public", LossKind.SparseCategoricalCrossentropy, null,
            new[]
            {
                new LayerSpec(LayerKind.Input, null, null, Shape: new[] { 28, 28, 1 }.ToEquatableArray()),
                L(LayerKind.Conv2D, filters: 16, kernel: 5, act: Model.Activation.Relu),
                L(LayerKind.MaxPool2D, pool: 2, stride: 2),
                L(LayerKind.Conv2D, filters: 32, kernel: 5, act: Model.Activation.Relu),
                L(LayerKind.MaxPool2D, pool: 2, stride: 2),
                L(LayerKind.Flatten),
                L(LayerKind.Dense, units: 128, act: Model.Activation.Relu),
                L(LayerKind.Dropout, rate: 0.4),
                L(LayerKind.Dense, units: 10, act: Model.Activation.Softmax),
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
        Assert.Equal([0, 400, 416, 13216, 13248, 213952, 214080, 215360], model.Layers.Where(l => l.HasParameters).SelectMany(l => new[] { l.KernelOffset, l.BiasOffset }));
    }
}

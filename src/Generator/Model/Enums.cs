namespace Kiln.Generator.Model;

// Mirrors of the public enums in Kiln (src/Dsl): the generator cannot reference that assembly,
// so the numeric values must stay in step with it.
internal enum Activation { Linear, Relu, Sigmoid, Tanh, Softmax, LeakyRelu, Elu, Gelu, Swish, Softplus }

internal enum Padding { Valid, Same }

internal enum LossKind { SparseCategoricalCrossentropy, CategoricalCrossentropy, MeanSquaredError, BinaryCrossentropy, MeanAbsoluteError }

namespace Kiln.Generator.Model;

// Mirrors of the public enums in Kiln (src/Dsl): the generator cannot reference that assembly,
// so the numeric values must stay in step with it.
internal enum Activation { Linear, Relu, Sigmoid, Tanh, Softmax }

internal enum Padding { Valid, Same }

internal enum LossKind { SparseCategoricalCrossentropy, CategoricalCrossentropy, MeanSquaredError }

internal enum LayerKind { Input, Dense, Conv2D, MaxPool2D, Flatten, Dropout }

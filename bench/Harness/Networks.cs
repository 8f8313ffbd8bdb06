using Kiln;

namespace Nets;

// Networks from tutorials beyond the workshop's, as their authors wrote them for 28×28 grey images (issue 20's list),
// each beside the same layers in bench/pytorch_peer.py's NETS. The comments give Keras' summary() totals, counted by
// hand: a Conv2D has k·k·c_in·filters + filters, a Dense in·units + units, a BatchNormalization 4·channels (gamma,
// beta trainable; moving mean and variance not). NetsCommand refuses a network whose ParameterCount differs.

/// <summary>
/// Keras' "Simple MNIST convnet" (keras.io/examples/vision/mnist_convnet), batch 128.
/// 320 + 18,496 + 16,010 = 34,826: conv 3·3·1·32+32, conv 3·3·32·64+64, dense (5·5·64)·10+10 after 28→26→13→11→5.
/// </summary>
[Network]
[Input(28, 28, 1)]
[Conv2D(32, 3, activation: Activation.Relu)]
[MaxPool2D(2)]
[Conv2D(64, 3, activation: Activation.Relu)]
[MaxPool2D(2)]
[Flatten]
[Dropout(0.5)]
[Dense(10, Activation.Softmax)]
public partial class KerasMnistConvnet;

/// <summary>
/// PyTorch's own MNIST example (pytorch/examples mnist/main.py: convolution after convolution, valid), batch 64.
/// 320 + 18,496 + 1,179,776 + 1,290 = 1,199,882: conv 3·3·1·32+32, conv 3·3·32·64+64, dense (12·12·64)·128+128
/// after 28→26→24→12, dense 128·10+10.
/// </summary>
[Network]
[Input(28, 28, 1)]
[Conv2D(32, 3, activation: Activation.Relu)]
[Conv2D(64, 3, activation: Activation.Relu)]
[MaxPool2D(2)]
[Dropout(0.25)]
[Flatten]
[Dense(128, Activation.Relu)]
[Dropout(0.5)]
[Dense(10, Activation.Softmax)]
public partial class PyTorchMnistExample;

/// <summary>
/// LeNet-5 (LeCun et al. 1998, as d2l.ai's "LeNet" chapter trains it on Fashion-MNIST at batch 256: 5×5 convolutions,
/// the first padded to keep 28×28, average pooling; tanh, the paper's squashing function, where d2l uses sigmoid).
/// 156 + 2,416 + 48,120 + 10,164 + 850 = 61,706: conv 5·5·1·6+6, conv 5·5·6·16+16, dense (5·5·16)·120+120 after
/// 28→14→10→5, dense 120·84+84, dense 84·10+10.
/// </summary>
[Network]
[Input(28, 28, 1)]
[Conv2D(6, 5, Padding.Same, Activation.Tanh)]
[AveragePooling2D(2)]
[Conv2D(16, 5, activation: Activation.Tanh)]
[AveragePooling2D(2)]
[Flatten]
[Dense(120, Activation.Tanh)]
[Dense(84, Activation.Tanh)]
[Dense(10, Activation.Softmax)]
public partial class LeNet5;

/// <summary>
/// TensorFlow's "Image classification" tutorial (tensorflow.org/tutorials/images/classification: Rescaling, then
/// three 3×3 same convolutions each followed by a pool), batch 32, on 28×28×1 instead of 180×180×3 and without its
/// augmentation. 160 + 4,640 + 18,496 + 73,856 + 1,290 = 98,442: conv 3·3·1·16+16, conv 3·3·16·32+32,
/// conv 3·3·32·64+64, dense (3·3·64)·128+128 after 28→14→7→3, dense 128·10+10.
/// </summary>
[Network]
[Input(28, 28, 1)]
[Rescaling(1.0 / 255)]
[Conv2D(16, 3, Padding.Same, Activation.Relu)]
[MaxPool2D(2)]
[Conv2D(32, 3, Padding.Same, Activation.Relu)]
[MaxPool2D(2)]
[Conv2D(64, 3, Padding.Same, Activation.Relu)]
[MaxPool2D(2)]
[Flatten]
[Dense(128, Activation.Relu)]
[Dense(10, Activation.Softmax)]
public partial class TfImageClassification;

/// <summary>
/// Two VGG blocks (Brownlee, "How to Develop a CNN From Scratch for CIFAR-10 Photo Classification", machinelearningmastery.com:
/// two 3×3 same convolutions per block, then a pool), batch 64. 320 + 9,248 + 18,496 + 36,928 + 401,536 + 1,290 =
/// 467,818: conv 3·3·1·32+32, conv 3·3·32·32+32, conv 3·3·32·64+64, conv 3·3·64·64+64, dense (7·7·64)·128+128,
/// dense 128·10+10.
/// </summary>
[Network]
[Input(28, 28, 1)]
[Conv2D(32, 3, Padding.Same, Activation.Relu)]
[Conv2D(32, 3, Padding.Same, Activation.Relu)]
[MaxPool2D(2)]
[Conv2D(64, 3, Padding.Same, Activation.Relu)]
[Conv2D(64, 3, Padding.Same, Activation.Relu)]
[MaxPool2D(2)]
[Flatten]
[Dense(128, Activation.Relu)]
[Dense(10, Activation.Softmax)]
public partial class SmallVgg;

/// <summary>
/// The same two VGG blocks with BatchNormalization between the stacked convolutions (the article's batch-normalised
/// variant, written Conv → BN → ReLU with no convolution bias as networks are written today), batch 128.
/// 288 + 128 + 9,216 + 128 + 18,432 + 256 + 36,864 + 256 + 401,536 + 1,290 = 468,394, of which 384 non-trainable
/// (the moving statistics, 2·(32+32+64+64)).
/// </summary>
[Network]
[Input(28, 28, 1)]
[Conv2D(32, 3, Padding.Same, UseBias = false)]
[BatchNormalization]
[ReLU]
[Conv2D(32, 3, Padding.Same, UseBias = false)]
[BatchNormalization]
[ReLU]
[MaxPool2D(2)]
[Conv2D(64, 3, Padding.Same, UseBias = false)]
[BatchNormalization]
[ReLU]
[Conv2D(64, 3, Padding.Same, UseBias = false)]
[BatchNormalization]
[ReLU]
[MaxPool2D(2)]
[Flatten]
[Dense(128, Activation.Relu)]
[Dense(10, Activation.Softmax)]
public partial class VggBatchNorm;

namespace Kiln.Tests.Losses;

/// <summary>One sigmoid unit behind a hidden layer: the binary head the workshop refused (KLN0011) before.</summary>
[Network(Loss = Loss.BinaryCrossentropy)]
[Input(2)]
[Dense(8, Activation.Tanh)]
[Dense(1, Activation.Sigmoid)]
public partial class BinaryNet;

/// <summary>Logistic regression: z = x·kernel + bias, simple enough for a float64 oracle of loss and gradient.</summary>
[Network(Loss = Loss.BinaryCrossentropy)]
[Input(3)]
[Dense(1, Activation.Sigmoid)]
public partial class LogisticNet;

/// <summary>One label trained on its logit: a binary classifier whose predictions are logits.</summary>
[Network(Loss = Loss.BinaryCrossentropy, FromLogits = true)]
[Input(3)]
[Dense(1)]
public partial class BinaryLogitNet;

/// <summary>Two independent labels trained on logits (Keras' <c>from_logits=True</c>): predictions are logits.</summary>
[Network(Loss = Loss.BinaryCrossentropy, FromLogits = true)]
[Input(3)]
[Dense(2)]
public partial class LogitsNet;

/// <summary>Three independent labels whose sigmoid is an activation layer, fused with the loss like a Dense one.</summary>
[Network(Loss = Loss.BinaryCrossentropy)]
[Input(4)]
[Dense(5, Activation.Tanh)]
[Dense(3)]
[Activation(Activation.Sigmoid)]
public partial class MultiLabelNet;

/// <summary>A small regression, for Keras' <c>mae</c>.</summary>
[Network(Loss = Loss.MeanSquaredError)]
[Input(3)]
[Dense(4, Activation.Tanh)]
[Dense(2)]
public partial class RegressionNet;

/// <summary>The same regression trained on mean absolute error.</summary>
[Network(Loss = Loss.MeanAbsoluteError)]
[Input(3)]
[Dense(4, Activation.Tanh)]
[Dense(2)]
public partial class MaeNet;

/// <summary>A softmax classifier of three classes, for class weights.</summary>
[Network]
[Input(3)]
[Dense(5, Activation.Tanh)]
[Dense(3, Activation.Softmax)]
public partial class ClassifierNet;

internal static class LossData
{
    /// <summary>Points in [−1, 1]² labelled by the side of a line: linearly separable.</summary>
    public static Dataset<Example> Separable(int count, int seed)
    {
        var random = new Random(seed);
        return Dataset.From([.. Enumerable.Range(0, count).Select(_ =>
        {
            float[] x = [random.NextSingle() * 2 - 1, random.NextSingle() * 2 - 1];
            return new Example(x, Target: [x[0] + 0.5f * x[1] > 0.1f ? 1f : 0f]);
        })]);
    }

    public static Batch Batch(int features, int targets, int count, int seed, Func<Random, float> target)
    {
        var random = new Random(seed);
        return new Batch
        {
            Features = [.. Enumerable.Range(0, count * features).Select(_ => random.NextSingle() * 2 - 1)],
            Targets = [.. Enumerable.Range(0, count * targets).Select(_ => target(random))],
            Labels = new int[count],
            Count = count,
            FeatureSize = features,
            TargetSize = targets,
        };
    }

    public static float Bit(Random random) => random.NextSingle() < 0.5f ? 0f : 1f;

    /// <summary>The gradient one training step computes: SGD with rate 1 moves each parameter by minus it.</summary>
    public static double[] Gradient(Network net, Batch batch, out double loss)
    {
        var p0 = net.GetParameters();
        loss = net.TrainOnBatch(batch, new Sgd(learningRate: 1f)).Loss;
        var gradient = p0.Zip(net.GetParameters(), (a, b) => (double)a - b).ToArray();
        net.SetParameters(p0);
        return gradient;
    }

    /// <summary>
    /// The generated backward pass against central differences of the training-mode loss (mean over the batch, the
    /// weights included), at every parameter.
    /// </summary>
    public static void CheckGradients(Network net, Batch batch)
    {
        var p0 = net.GetParameters();
        var gradient = Gradient(net, batch, out _);
        double Loss(int i, float delta)
        {
            var p = (float[])p0.Clone();
            p[i] += delta;
            net.SetParameters(p);
            return net.TrainOnBatch(batch, new Sgd(learningRate: 1e-30f)).Loss;
        }
        const float h = 1e-3f;
        var failures = new List<string>();
        for (var i = 0; i < p0.Length; i++)
        {
            var numeric = (Loss(i, h) - Loss(i, -h)) / (2 * h);
            if (Math.Abs(numeric - gradient[i]) > 2e-4 + 0.02 * Math.Abs(numeric))
            {
                failures.Add($"parameter {i}: backward {gradient[i]:G5}, central difference {numeric:G5}");
            }
        }
        net.SetParameters(p0);
        Assert.True(gradient.Count(g => Math.Abs(g) > 1e-5) > p0.Length / 2, "most gradients should be nonzero");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    public static double Sigmoid(double z) => 1 / (1 + Math.Exp(-z));
}

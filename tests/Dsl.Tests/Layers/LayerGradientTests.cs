namespace Kiln.Tests.Layers;

/// <summary>
/// BatchNormalization without bias before it, ELU, same-padded average pooling, a fused GELU convolution, global
/// average pooling, a Swish dense layer and a BatchNormalization without beta. Smooth activations only where a beta
/// moves hundreds of inputs at once, so no kink is crossed within a finite-difference step.
/// </summary>
[Network]
[Input(6, 5, 3)]
[Conv2D(4, 3, Padding.Same, UseBias = false)]
[BatchNormalization(momentum: 0.9)]
[ELU]
[AveragePooling2D(2, padding: Padding.Same)]
[Conv2D(4, 3, Padding.Same, Activation.Gelu)]
[GlobalAveragePooling2D]
[Dense(5, Activation.Swish)]
[BatchNormalization(center: false)]
[Dense(3, Activation.Softmax)]
public partial class BatchNormGradientNet;

/// <summary>Rescaling, ELU, LeakyReLU and softplus, a global max pool, and activation layers down to a softmax layer head.</summary>
[Network]
[Input(7, 6, 2)]
[Rescaling(0.5, 0.25)]
[Conv2D(3, 3, Padding.Valid, Activation.Elu)]
[GlobalMaxPooling2D]
[Dense(6, Activation.Softplus)]
[Dense(6)]
[ELU(0.7)]
[Dense(5, Activation.Tanh)]
[LeakyReLU(0.2)]
[Activation(Activation.Sigmoid)]
[Dense(4, Activation.Swish, UseBias = false)]
[Activation(Activation.Gelu)]
[Dense(3)]
[Activation(Activation.Softmax)]
public partial class ActivationGradientNet;

/// <summary>
/// The generated backward passes of the new layers against central differences of the training-mode loss, end to
/// end. The training-mode loss comes from a step with a negligible learning rate (the parameters are reset before each): BatchNormalization normalises with the batch's
/// own statistics then, which is what the gradient differentiates (Evaluate would use the moving ones).
/// </summary>
public class LayerGradientTests
{
    [Fact]
    public void BatchNormalization_pooling_and_fused_activations_backpropagate_exactly()
    {
        using var net = new BatchNormGradientNet(seed: 5);
        CheckGradients(net, Batch(BatchNormGradientNet.InputSize, 12, 11));
    }

    [Fact]
    public void Activation_layers_rescaling_and_global_max_pooling_backpropagate_exactly()
    {
        using var net = new ActivationGradientNet(seed: 2);
        CheckGradients(net, Batch(ActivationGradientNet.InputSize, 9, 3));
    }

    private static Batch Batch(int size, int count, int seed)
    {
        var random = new Random(seed);
        return new Batch
        {
            Features = Enumerable.Range(0, count * size).Select(_ => random.NextSingle() * 2 - 1).ToArray(),
            Labels = Enumerable.Range(0, count).Select(i => i % 3).ToArray(),
            Count = count,
            FeatureSize = size,
        };
    }

    private static void CheckGradients(Network net, Batch batch)
    {
        var p0 = net.GetParameters();
        double Loss(int i, float delta)
        {
            var p = (float[])p0.Clone();
            p[i] += delta;
            net.SetParameters(p);
            return net.TrainOnBatch(batch, new Sgd(learningRate: 1e-30f)).Loss * batch.Count;
        }

        var loss = Loss(0, 0f);
        net.SetParameters(p0);
        net.TrainOnBatch(batch, new Sgd(learningRate: 1f));
        var gradient = p0.Zip(net.GetParameters(), (a, b) => ((double)a - b) * batch.Count).ToArray();

        const float h = 1e-3f;
        var failures = new List<string>();
        var checkedCount = 0;
        foreach (var parameter in net.Info.Parameters.Where(p => p.Trainable))
        {
            var step = Math.Max(1, parameter.Length / 12);
            for (var i = parameter.Offset; i < parameter.Offset + parameter.Length; i += step)
            {
                var (up, down) = (Loss(i, h), Loss(i, -h));
                var numeric = (up - down) / (2 * h);
                checkedCount++;
                if (Math.Abs(numeric - gradient[i]) > 2e-3 + 0.03 * Math.Abs(numeric))
                {
                    failures.Add($"{parameter.Name}[{i - parameter.Offset}]: backward {gradient[i]:G5}, central difference {numeric:G5}");
                }
            }
        }
        Assert.True(checkedCount >= 40, $"only {checkedCount} parameters checked");
        Assert.True(gradient.Take(net.Info.TrainableParameterCount).Count(g => Math.Abs(g) > 1e-5) > net.Info.TrainableParameterCount / 2, "most gradients should be nonzero");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.True(Math.Abs(loss) > 0);
    }
}

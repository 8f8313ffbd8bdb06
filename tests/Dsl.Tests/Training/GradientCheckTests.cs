namespace Kiln.Tests.Training;

/// <summary>
/// Both convolutions feed a max pool, so their gradients go through the sparse pooled path; the second is 5×5 with
/// channels in whole vectors, so at batch 16 its forward pass is the Winograd one. The pools have odd and padded edges. Tanh, not
/// ReLU: a bias moves hundreds of ReLU inputs at once, and some always cross zero within a finite-difference step
/// (PyTorch's float64 autograd shows the same disagreements on this net with ReLU).
/// </summary>
[Network]
[Input(10, 9, 2)]
[Conv2D(8, 3, Padding.Same, Activation.Tanh)]
[MaxPool2D(2, padding: Padding.Same)]
[Conv2D(8, 5, Padding.Same, Activation.Tanh)]
[MaxPool2D(2, padding: Padding.Same)]
[Flatten]
[Dense(3, Activation.Softmax)]
public partial class GradientCheckNet;

/// <summary>The generated backward pass against central differences of the generated forward pass, end to end.</summary>
public class GradientCheckTests
{
    [Fact]
    public void Generated_gradients_match_central_differences_of_the_loss()
    {
        const int count = 16;
        var random = new Random(7);
        var batch = new Batch
        {
            Features = Enumerable.Range(0, count * GradientCheckNet.InputSize).Select(_ => random.NextSingle()).ToArray(),
            Labels = Enumerable.Range(0, count).Select(i => i % 3).ToArray(),
            Count = count,
            FeatureSize = GradientCheckNet.InputSize,
        };
        using var net = new GradientCheckNet(seed: 3);
        var p0 = net.GetParameters();

        // One plain SGD step with learning rate 1 moves every parameter by minus its gradient.
        net.TrainOnBatch(batch, new Sgd(learningRate: 1f));
        var p1 = net.GetParameters();
        var gradient = p0.Zip(p1, (a, b) => (double)a - b).ToArray();

        double Loss(int i, float delta)
        {
            var p = (float[])p0.Clone();
            p[i] += delta;
            net.SetParameters(p);
            return net.Evaluate(Dataset.From([batch])).Loss;
        }

        // Max pooling is not differentiable where two window values cross; a crossing within h of the point spoils the
        // central difference but leaves the one-sided difference on its other side.
        const float h = 1e-3f;
        var failures = new List<string>();
        var checkedCount = 0;
        var loss = Loss(0, 0f);
        foreach (var parameter in net.Info.Parameters)
        {
            // Every parameter of the biases, a spread of each kernel's.
            var step = Math.Max(1, parameter.Length / 25);
            for (var i = parameter.Offset; i < parameter.Offset + parameter.Length; i += step)
            {
                var (up, down) = (Loss(i, h), Loss(i, -h));
                double[] numeric = [(up - down) / (2 * h), (up - loss) / h, (loss - down) / h];
                checkedCount++;
                if (!numeric.Any(n => Math.Abs(n - gradient[i]) <= 1e-3 + 0.05 * Math.Abs(n)))
                {
                    failures.Add($"{parameter.Name}[{i - parameter.Offset}]: backward {gradient[i]:G4}, differences {string.Join(" / ", numeric.Select(n => n.ToString("G4")))}");
                }
            }
        }
        Assert.True(checkedCount >= 90, $"only {checkedCount} parameters checked");
        Assert.True(gradient.Count(g => Math.Abs(g) > 1e-4) > gradient.Length / 4, "most gradients should be nonzero");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }
}

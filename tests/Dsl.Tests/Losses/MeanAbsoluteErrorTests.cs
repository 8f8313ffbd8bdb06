using System.Globalization;
using System.Text.RegularExpressions;

namespace Kiln.Tests.Losses;

public partial class MeanAbsoluteErrorTests
{
    [Fact]
    public void A_regression_reports_keras_mae_instead_of_accuracy()
    {
        var random = new Random(18);
        var data = Dataset.From([.. Enumerable.Range(0, 40).Select(_ =>
        {
            float[] x = [random.NextSingle(), random.NextSingle(), random.NextSingle()];
            return new Example(x, Target: [x[0] - x[1], 2 * x[2]]);
        })]);
        using var net = new RegressionNet(seed: 3);
        var output = new StringWriter();

        var history = net.Fit(data.Batch(8), epochs: 2, validation: data.Take(16).Batch(8), options: new FitOptions { Output = output });
        var evaluation = net.Evaluate(data.Batch(8));

        // Keras' mae: the mean over examples of each one's mean |output − target|, from the network's own predictions.
        var outputs = net.Predict(data.Batch(8));
        var targets = data.SelectMany(e => e.Target!).ToArray();
        var expected = Enumerable.Range(0, 40).Average(b => (Math.Abs((double)outputs[2 * b] - targets[2 * b]) + Math.Abs((double)outputs[2 * b + 1] - targets[2 * b + 1])) / 2);
        Assert.Equal(expected, evaluation.MeanAbsoluteError, 6);
        Assert.True(double.IsNaN(evaluation.Accuracy));

        var last = history.Epochs[^1];
        Assert.NotNull(last.MeanAbsoluteError);
        Assert.Equal(last.ValidationMeanAbsoluteError, last.Metric("val_mae"));
        Assert.Equal(["loss", "mae", "val_loss", "val_mae", "learning_rate"], last.Available());
        var line = output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries)[^1];
        var match = RegressionLine().Match(line);
        Assert.True(match.Success, line);
        Assert.Equal(F(last.MeanAbsoluteError!.Value), match.Groups["mae"].Value);
        Assert.Equal(F(last.ValidationMeanAbsoluteError!.Value), match.Groups["vmae"].Value);
        Assert.DoesNotContain("accuracy", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Mean_absolute_error_as_the_loss_matches_float64_and_central_differences()
    {
        using var net = new MaeNet(seed: 4);
        // Targets far from the initial outputs, so no |output − target| kink lies within a difference step.
        var batch = LossData.Batch(3, 2, 8, seed: 19, r => r.NextSingle() < 0.5f ? -3f : 3f);
        batch.SampleWeights = [1f, 2f, 0.5f, 1f, 0f, 1f, 3f, 1f];

        var outputs = new float[16];
        net.Predict(batch.Features, outputs);
        var evaluation = net.Evaluate(Dataset.From([batch]));

        var (weighted, plain) = (0.0, 0.0);
        for (var b = 0; b < 8; b++)
        {
            var row = (Math.Abs((double)outputs[2 * b] - batch.Targets![2 * b]) + Math.Abs((double)outputs[2 * b + 1] - batch.Targets[2 * b + 1])) / 2;
            weighted += batch.SampleWeights[b] * row;
            plain += row;
        }
        Assert.Equal(weighted / 8, evaluation.Loss, 6);
        Assert.Equal(plain / 8, evaluation.MeanAbsoluteError, 6);
        LossData.CheckGradients(net, batch);
    }

    private static string F(double value) => value.ToString("0.0000", CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^5/5 ━+ \d+s \d+[um]?s/step - loss: \d\.\d{4} - mae: (?<mae>\d\.\d{4}) - val_loss: \d\.\d{4} - val_mae: (?<vmae>\d\.\d{4})$")]
    private static partial Regex RegressionLine();
}

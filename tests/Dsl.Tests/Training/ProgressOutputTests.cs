using System.Text.RegularExpressions;

namespace Kiln.Tests.Training;

public partial class ProgressOutputTests
{
    [Fact]
    public void Fit_prints_keras_lines_one_per_epoch_when_redirected()
    {
        var (train, test) = Data.Iris();
        using var net = new IrisNet(seed: 1);
        var output = new StringWriter();

        var history = net.Fit(train.Repeat().Batch(32), epochs: 2, stepsPerEpoch: 150, validation: test.Batch(32), options: new FitOptions { Output = output });

        var lines = output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, lines.Length);
        Assert.Equal("Epoch 1/2", lines[0]);
        Assert.Equal("Epoch 2/2", lines[2]);
        var match = KerasLine().Match(lines[3]);
        Assert.True(match.Success, lines[3]);
        var last = history.Epochs[^1];
        Assert.Equal(last.Accuracy.ToString("0.0000", System.Globalization.CultureInfo.InvariantCulture), match.Groups["acc"].Value);
        Assert.Equal(last.Loss.ToString("0.0000", System.Globalization.CultureInfo.InvariantCulture), match.Groups["loss"].Value);
        Assert.Equal(last.ValidationLoss!.Value.ToString("0.0000", System.Globalization.CultureInfo.InvariantCulture), match.Groups["vloss"].Value);
    }

    [Fact]
    public void Quiet_mode_prints_nothing()
    {
        using var net = new IrisNet();
        var output = new StringWriter();

        net.Fit(Datasets.Iris().Batch(32), options: new FitOptions { Verbose = false, Output = output });

        Assert.Equal("", output.ToString());
    }

    [Fact]
    public void Summary_is_the_keras_table_computed_at_compile_time()
    {
        Assert.Contains("│ dense_2 (Dense)                 │ (None, 3)              │            33 │", IrisNet.Summary);
        Assert.EndsWith(" Non-trainable params: 0 (0.00 B)", IrisNet.Summary);
        Assert.Equal(193, IrisNet.ParameterCount);
        Assert.Equal(IrisNet.Summary, new IrisNet().Info.Summary);
    }

    [GeneratedRegex(@"^150/150 ━{20} \d+s \d+(us|ms)/step - accuracy: (?<acc>\d\.\d{4}) - loss: (?<loss>\d\.\d{4}) - val_accuracy: \d\.\d{4} - val_loss: (?<vloss>\d\.\d{4})$")]
    private static partial Regex KerasLine();
}

namespace Kiln.Runtime.Cpu.Tests;

/// <summary>
/// Per-example weights in every loss head: Σ w·loss, and the gradient of Σ w·loss / batch (Keras' sum over the batch
/// size), against float64 oracles and central differences; all-ones weights against the unweighted bits.
/// </summary>
public class WeightedLossesTests
{
    private const int Batch = 5, Size = 4;

    // Zero, fractional and large weights, so a weight that is ignored, squared or normalised away shows.
    private static readonly float[] Weights = [0.5f, 0f, 3f, 1f, 2.25f];
    private static readonly double[] W = TestData.ToDouble(Weights);
    private static readonly float[] Ones = [1f, 1f, 1f, 1f, 1f];

    public static TheoryData<string> Heads => ["sparse", "categorical", "binary", "mse", "mae"];

    [Theory]
    [MemberData(nameof(Heads))]
    public void Weighted_loss_and_gradient_match_float64_and_central_differences(string head)
    {
        var (y, t) = Inputs(head);
        var dy = TestData.Poisoned(y.Length);
        var loss = Run(head, y, t, Weights, dy);

        var yd = TestData.ToDouble(y);
        var td = TestData.ToDouble(t);
        var rowLoss = RowLoss(head);
        double Total(double[] v) => LossReference.Weighted(rowLoss, v, td, W, Size);
        Approx.Equal(Total(yd), loss, "weighted loss");
        Approx.Equal(FiniteDifference.Gradient(v => Total(v) / Batch, yd), dy, "d(Σ w·loss / batch)/dy", Approx.FdAtol, Approx.FdRtol);
        // The zero-weight example gets no gradient at all.
        Assert.All(dy.AsSpan(Size, Size).ToArray(), g => Assert.Equal(0f, g));
    }

    [Theory]
    [MemberData(nameof(Heads))]
    public void All_ones_weights_give_the_unweighted_bits(string head)
    {
        var (y, t) = Inputs(head);
        var (plain, weighted) = (TestData.Poisoned(y.Length), TestData.Poisoned(y.Length));
        var loss = Run(head, y, t, default, plain);
        var ones = Run(head, y, t, Ones, weighted);
        Assert.Equal(BitConverter.DoubleToInt64Bits(loss), BitConverter.DoubleToInt64Bits(ones));
        Assert.Equal(plain.Select(BitConverter.SingleToInt32Bits), weighted.Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void Mean_squared_error_reports_the_mean_absolute_error()
    {
        var (y, t) = Inputs("mse");
        Losses.MeanSquaredError(y, t, Weights, new float[y.Length], Batch, Size, out var absolute);
        // Unweighted: the weights scale the loss, not the metric.
        Approx.Equal(LossReference.MeanAbsoluteError(TestData.ToDouble(y), TestData.ToDouble(t), Batch, Size), absolute, "Σ mae");
    }

    [Fact]
    public void Mean_absolute_error_reports_itself_unweighted()
    {
        var (y, t) = Inputs("mae");
        Losses.MeanAbsoluteError(y, t, Weights, new float[y.Length], Batch, Size, out var absolute);
        Approx.Equal(LossReference.MeanAbsoluteError(TestData.ToDouble(y), TestData.ToDouble(t), Batch, Size), absolute, "Σ mae");
    }

    [Fact]
    public void Weights_of_the_wrong_length_are_refused()
    {
        var (y, t) = Inputs("binary");
        Assert.Equal("weights", Assert.Throws<ArgumentException>(() => Losses.SigmoidBinaryCrossEntropy(y, t, Weights[1..], default, new float[y.Length], Batch, Size, out _)).ParamName);
    }

    private static (float[] Y, float[] T) Inputs(string head)
    {
        var y = TestData.Random(Batch * Size, seed: 81, scale: 3f);
        var t = head switch
        {
            "sparse" => LossReference.OneHot([2, 0, 3, 1, 2], Size).Select(v => (float)v).ToArray(),
            "categorical" => TestData.Random(Batch * Size, seed: 82).Select(Math.Abs).ToArray(),
            "binary" => TestData.Random(Batch * Size, seed: 83).Select(v => v > 0 ? 1f : 0f).ToArray(),
            // Regression targets; mae's kinks at y = t lie far from these (|y − t| ≫ the difference step).
            _ => TestData.Random(Batch * Size, seed: 84),
        };
        return (y, t);
    }

    private static double Run(string head, float[] y, float[] t, ReadOnlySpan<float> weights, Span<float> dy) => head switch
    {
        "sparse" => Losses.SoftmaxCrossEntropy(y, Labels(t), weights, default, dy, Batch, Size, out _),
        "categorical" => Losses.SoftmaxCrossEntropy(y, t, weights, default, dy, Batch, Size, out _),
        "binary" => Losses.SigmoidBinaryCrossEntropy(y, t, weights, default, dy, Batch, Size, out _),
        "mse" => Losses.MeanSquaredError(y, t, weights, dy, Batch, Size, out _),
        _ => Losses.MeanAbsoluteError(y, t, weights, dy, Batch, Size, out _),
    };

    private static int[] Labels(float[] oneHot) => [.. Enumerable.Range(0, Batch).Select(b => Array.IndexOf(oneHot, 1f, b * Size) - b * Size)];

    private static Func<double[], double[], double> RowLoss(string head) => head switch
    {
        "binary" => (z, t) => LossReference.BinaryCrossEntropy(z, t, 1, Size),
        "mse" => (y, t) => LossReference.MeanSquaredError(y, t, 1, Size),
        "mae" => (y, t) => LossReference.MeanAbsoluteError(y, t, 1, Size),
        _ => (z, t) => LossReference.CrossEntropy(z, t, 1, Size),
    };
}

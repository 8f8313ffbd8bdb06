namespace Kiln.Runtime.Cpu.Tests;

public class LossesTests
{
    [Theory]
    [InlineData(3, 7, 0f)]
    [InlineData(5, 10, 0f)]
    [InlineData(1, 1, 0f)]
    [InlineData(4, 6, 1000f)] // large logits: only a max-subtracted log-sum-exp stays finite
    public void Sparse_MatchesReference(int batch, int classes, float offset)
    {
        var logits = TestData.Random(batch * classes, seed: 61, scale: 3f).Select(v => v + offset).ToArray();
        var labels = Labels(batch, classes);
        var probs = TestData.Poisoned(logits.Length);
        var dlogits = TestData.Poisoned(logits.Length);
        var loss = Losses.SoftmaxCrossEntropy(logits, labels, probs, dlogits, batch, classes, out var correct);

        var z = TestData.ToDouble(logits);
        var t = LossReference.OneHot(labels, classes);
        var p = LossReference.Softmax(z, batch, classes);
        Approx.Equal(LossReference.CrossEntropy(z, t, batch, classes), loss, "loss");
        Approx.Equal(p, probs, "probs");
        Approx.Equal(LossReference.CrossEntropyGradient(z, t, batch, classes), dlogits, "dlogits");
        Assert.Equal(Enumerable.Range(0, batch).Count(b => LossReference.ArgMax(p, b, classes) == labels[b]), correct);
    }

    [Theory]
    [InlineData(3, 7)]
    [InlineData(5, 10)]
    public void Categorical_WithSoftTargets_MatchesReference(int batch, int classes)
    {
        // Soft rows that do not sum to 1 exercise the p·Σt − t gradient.
        var logits = TestData.Random(batch * classes, seed: 62, scale: 3f);
        var targets = TestData.Random(batch * classes, seed: 63).Select(Math.Abs).ToArray();
        var probs = TestData.Poisoned(logits.Length);
        var dlogits = TestData.Poisoned(logits.Length);
        var loss = Losses.SoftmaxCrossEntropy(logits, targets, probs, dlogits, batch, classes, out var correct);

        var z = TestData.ToDouble(logits);
        var t = TestData.ToDouble(targets);
        var p = LossReference.Softmax(z, batch, classes);
        Approx.Equal(LossReference.CrossEntropy(z, t, batch, classes), loss, "loss");
        Approx.Equal(p, probs, "probs");
        Approx.Equal(LossReference.CrossEntropyGradient(z, t, batch, classes), dlogits, "dlogits");
        Assert.Equal(Enumerable.Range(0, batch).Count(b => LossReference.ArgMax(p, b, classes) == LossReference.ArgMax(t, b, classes)), correct);
    }

    [Fact]
    public void Sparse_Gradient_MatchesFiniteDifferences()
    {
        const int batch = 4, classes = 5;
        var logits = TestData.Random(batch * classes, seed: 64, scale: 2f);
        var labels = Labels(batch, classes);
        var dlogits = TestData.Poisoned(logits.Length);
        Losses.SoftmaxCrossEntropy(logits, labels, new float[logits.Length], dlogits, batch, classes, out _);
        var t = LossReference.OneHot(labels, classes);
        // The kernel's gradient is that of the batch mean.
        var expected = FiniteDifference.Gradient(z => LossReference.CrossEntropy(z, t, batch, classes) / batch, TestData.ToDouble(logits));
        Approx.Equal(expected, dlogits, "dL/dlogits", Approx.FdAtol, Approx.FdRtol);
    }

    [Fact]
    public void Categorical_Gradient_MatchesFiniteDifferences()
    {
        const int batch = 3, classes = 6;
        var logits = TestData.Random(batch * classes, seed: 65, scale: 2f);
        var targets = TestData.Random(batch * classes, seed: 66).Select(Math.Abs).ToArray();
        var dlogits = TestData.Poisoned(logits.Length);
        Losses.SoftmaxCrossEntropy(logits, targets, new float[logits.Length], dlogits, batch, classes, out _);
        var t = TestData.ToDouble(targets);
        var expected = FiniteDifference.Gradient(z => LossReference.CrossEntropy(z, t, batch, classes) / batch, TestData.ToDouble(logits));
        Approx.Equal(expected, dlogits, "dL/dlogits", Approx.FdAtol, Approx.FdRtol);
    }

    [Fact]
    public void MeanSquaredError_MatchesReferenceAndFiniteDifferences()
    {
        const int batch = 3, size = 7;
        var y = TestData.Random(batch * size, seed: 67);
        var targets = TestData.Random(batch * size, seed: 68);
        var dy = TestData.Poisoned(y.Length);
        var loss = Losses.MeanSquaredError(y, targets, dy, batch, size);
        var t = TestData.ToDouble(targets);
        Approx.Equal(LossReference.MeanSquaredError(TestData.ToDouble(y), t, batch, size), loss, "loss");
        var expected = FiniteDifference.Gradient(v => LossReference.MeanSquaredError(v, t, batch, size) / batch, TestData.ToDouble(y));
        Approx.Equal(expected, dy, "dL/dy", Approx.FdAtol, Approx.FdRtol);
    }

    [Fact]
    public void Softmax_MatchesReference()
    {
        var logits = TestData.Random(6 * 9, seed: 69, scale: 5f);
        var probs = TestData.Poisoned(logits.Length);
        Losses.Softmax(logits, probs, 6, 9);
        Approx.Equal(LossReference.Softmax(TestData.ToDouble(logits), 6, 9), probs, "softmax");
    }

    [Fact]
    public void Correct_BreaksTiesTowardsTheFirstMaximum()
    {
        // Row 0: ties between classes 1 and 2, label 1 → correct. Row 1: same logits, label 2 → wrong.
        float[] logits = [0f, 3f, 3f, 0f, 3f, 3f];
        var dl = new float[6];
        Losses.SoftmaxCrossEntropy(logits, [1, 2], new float[6], dl, 2, 3, out var correct);
        Assert.Equal(1, correct);
        // Categorical: t's first maximum is class 1 in both rows.
        Losses.SoftmaxCrossEntropy(logits, [0f, 0.5f, 0.5f, 0f, 0.5f, 0.5f], new float[6], dl, 2, 3, out correct);
        Assert.Equal(2, correct);
    }

    [Fact]
    public void EmptyProbs_SkipsThemAndGivesTheSameGradient()
    {
        var logits = TestData.Random(4 * 5, seed: 70);
        var labels = Labels(4, 5);
        float[] d1 = new float[20], d2 = new float[20];
        var l1 = Losses.SoftmaxCrossEntropy(logits, labels, new float[20], d1, 4, 5, out var c1);
        var l2 = Losses.SoftmaxCrossEntropy(logits, labels, [], d2, 4, 5, out var c2);
        Assert.Equal(l1, l2);
        Assert.Equal(c1, c2);
        TestData.BitwiseEqual(d1, d2, "dlogits");
    }

    [Theory]
    [InlineData(5)]
    [InlineData(-1)]
    public void LabelOutOfRange_ThrowsNamingTheSample(int bad)
    {
        var dlogits = TestData.Poisoned(15);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() =>
            Losses.SoftmaxCrossEntropy(new float[15], [0, 4, bad], new float[15], dlogits, 3, 5, out _));
        Assert.Equal("labels", ex.ParamName);
        Assert.Contains("sample 2", ex.Message);
        Assert.Contains($"is {bad}", ex.Message);
        Assert.All(dlogits, v => Assert.True(float.IsNaN(v))); // nothing written before the check
    }

    [Fact]
    public void SameInputs_SameBits()
    {
        var logits = TestData.Random(8 * 10, seed: 71, scale: 4f);
        var labels = Labels(8, 10);
        float[] p1 = new float[80], p2 = new float[80], d1 = new float[80], d2 = new float[80];
        var l1 = Losses.SoftmaxCrossEntropy(logits, labels, p1, d1, 8, 10, out _);
        var l2 = Losses.SoftmaxCrossEntropy(logits, labels, p2, d2, 8, 10, out _);
        Assert.Equal(BitConverter.DoubleToInt64Bits(l1), BitConverter.DoubleToInt64Bits(l2));
        TestData.BitwiseEqual(p1, p2, "probs");
        TestData.BitwiseEqual(d1, d2, "dlogits");
    }

    private static int[] Labels(int batch, int classes) => Enumerable.Range(0, batch).Select(b => (b * 7 + 3) % classes).ToArray();

    [Theory]
    [InlineData(5, 1)]
    [InlineData(3, 7)]
    [InlineData(4, 33)]
    public void Sigmoid_binary_crossentropy_matches_float64_and_finite_differences(int batch, int size)
    {
        // Logits up to ±40 (a naive log(sigmoid) would give −∞), targets 0, 1 and soft.
        var logits = TestData.Random(batch * size, seed: 71, scale: 40f);
        var targets = TestData.Random(batch * size, seed: 72).Select(v => v > 0.3f ? 1f : v < -0.3f ? 0f : v + 0.5f).ToArray();
        var probs = TestData.Poisoned(logits.Length);
        var dlogits = TestData.Poisoned(logits.Length);
        var loss = Losses.SigmoidBinaryCrossEntropy(logits, targets, probs, dlogits, batch, size, out var correct);

        // Keras: mean over outputs of −t·log σ(z) − (1 − t)·log(1 − σ(z)), summed over the batch (float64, stable form).
        double Loss(double[] z)
        {
            var total = 0.0;
            for (var b = 0; b < batch; b++)
            {
                var row = 0.0;
                for (var i = b * size; i < (b + 1) * size; i++)
                {
                    var logSigmoid = -Math.Log(1 + Math.Exp(-Math.Abs(z[i]))) + Math.Min(z[i], 0);
                    var logOneMinus = logSigmoid - z[i];
                    row += -targets[i] * logSigmoid - (1 - targets[i]) * logOneMinus;
                }
                total += row / size;
            }
            return total;
        }
        var z = TestData.ToDouble(logits);
        Approx.Equal(Loss(z), loss, "loss");
        Approx.Equal([.. z.Select(v => 1 / (1 + Math.Exp(-v)))], probs, "probs");
        // dlogits is the gradient of the batch mean: of Loss / batch.
        Approx.Equal([.. FiniteDifference.Gradient(x => Loss(x) / batch, z, 1e-3)], dlogits, "dlogits");
        Assert.Equal(z.Select((v, i) => (v > 0) == (targets[i] > 0.5) ? 1 : 0).Sum(), correct);
        Assert.Equal("targets", Assert.Throws<ArgumentException>(() => Losses.SigmoidBinaryCrossEntropy(logits, targets[1..], probs, dlogits, batch, size, out _)).ParamName);
    }
}

namespace Kiln.Tests.Training;

public class MetricsTests
{
    [Fact]
    public void Confusion_matrix_counts_and_per_class_scores_match_hand_computed_values()
    {
        // Labels 0 0 1 1 2, predictions 0 1 1 1 0: rows [1 1 0] [0 2 0] [1 0 0].
        var m = new ConfusionMatrix([0, 0, 1, 1, 2], [0, 1, 1, 1, 0], 3, ["a", "b", "c"]);
        Assert.Equal([1L, 1, 0, 0, 2, 0, 1, 0, 0], from a in Enumerable.Range(0, 3) from p in Enumerable.Range(0, 3) select m[a, p]);
        Assert.Equal([0.5, 2 / 3.0, 0], Enumerable.Range(0, 3).Select(m.Precision));
        Assert.Equal([0.5, 1, 0], Enumerable.Range(0, 3).Select(m.Recall));
        Assert.Equal([0.5, 0.8, 0], Enumerable.Range(0, 3).Select(m.F1), new ToleranceComparer(1e-12));
        Assert.Equal(0.6, m.Accuracy);
        var table = m.ToString().Split(Environment.NewLine);
        Assert.Equal("true \\ predicted   a  b  c", table[0]);
        Assert.Equal("b                  0  2  0", table[2]);
        Assert.Equal("b                    0.6667    1.0000    0.8000         2", table[7]);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ConfusionMatrix([3], [0], 3));
    }

    [Fact]
    public void A_networks_confusion_matrix_agrees_with_evaluate_and_top_k()
    {
        var (train, test) = Data.Iris(1);
        using var net = new IrisNet(seed: 1);
        net.Fit(train.Repeat().Shuffle(1000, 1).Batch(32), 2, stepsPerEpoch: 50, options: Data.Quiet);
        var m = net.ConfusionMatrix(test.Batch(8), ["setosa", "versicolor", "virginica"]);
        Assert.Equal(38, m.Total);
        Assert.Equal(net.Evaluate(test.Batch(8)).Accuracy, m.Accuracy, 12);
        var labels = test.Select(e => e.Label).ToArray();
        Assert.Equal(labels.GroupBy(l => l).OrderBy(g => g.Key).Select(g => (long)g.Count()), Enumerable.Range(0, 3).Select(m.Row));
        var outputs = net.Predict(test.Batch(8));
        Assert.Equal(m.Accuracy, net.TopKAccuracy(outputs, labels, 1), 12);
        Assert.Equal(1.0, net.TopKAccuracy(outputs, labels, 3));
    }

    private sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance;
        public int GetHashCode(double obj) => 0;
    }
}

namespace Kiln.Tests.Losses;

/// <summary>A binary network's classes are its one output thresholded as Keras' binary accuracy does, not an argmax.</summary>
public class BinaryClassesTests
{
    private static readonly float[] Outputs = [-1f, 0f, 0.3f, 0.5f, 0.7f];

    [Fact]
    public void A_sigmoid_head_predicts_class_1_above_a_probability_of_one_half()
    {
        using var net = new BinaryNet(seed: 1);
        Assert.Equal([0, 0, 0, 0, 1], net.PredictedClasses(Outputs));
        Assert.Equal(["no", "no", "no", "no", "yes"], net.PredictedClassNames(Outputs, ["no", "yes"]));
        Assert.Throws<ArgumentException>(() => net.PredictedClassNames(Outputs, ["yes"]));
    }

    [Fact]
    public void A_logit_head_predicts_class_1_above_a_logit_of_zero()
    {
        using var net = new BinaryLogitNet(seed: 1);
        Assert.Equal([0, 0, 1, 1, 1], net.PredictedClasses(Outputs));
    }

    [Fact]
    public void Independent_labels_have_no_single_class()
    {
        using var net = new LogitsNet(seed: 1);
        Assert.Throws<InvalidOperationException>(() => net.PredictedClasses(new float[4]));
    }

    [Fact]
    public void The_confusion_matrix_of_a_binary_network_counts_targets_against_thresholded_outputs()
    {
        var test = LossData.Separable(200, seed: 2);
        using var net = new BinaryNet(seed: 1);
        net.Fit(LossData.Separable(256, seed: 1).Batch(16), epochs: 3, optimizer: new Adam(0.02f), options: new FitOptions { Verbose = false });

        var matrix = net.ConfusionMatrix(test.Batch(32), ["no", "yes"]);

        var outputs = net.Predict(test.Batch(32));
        var targets = test.Select(e => e.Target![0]).ToArray();
        Assert.Equal(2, matrix.Classes);
        Assert.Equal(200, matrix.Total);
        for (var actual = 0; actual < 2; actual++)
        {
            for (var predicted = 0; predicted < 2; predicted++)
            {
                var expected = targets.Where((t, i) => (t > 0.5f ? 1 : 0) == actual && (outputs[i] > 0.5f ? 1 : 0) == predicted).Count();
                Assert.Equal(expected, matrix[actual, predicted]);
            }
        }
        // Both classes occur and some are right, so the counts above are not all in one cell.
        Assert.True(matrix[0, 0] > 0 && matrix[1, 1] > 0, matrix.ToString());
        Assert.Equal(net.Evaluate(test.Batch(32)).Accuracy, matrix.Accuracy, 12);
    }
}

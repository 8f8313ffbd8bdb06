using Kiln.Tests.Training;

namespace Kiln.Tests.Safety;

/// <summary>
/// Hand-built batches that disagree with themselves, and batch sizes no array can hold. Before: a bare
/// IndexOutOfRangeException from inside the executor, and OverflowException from Batch(int.MaxValue).
/// </summary>
public class MalformedBatchTests
{
    [Theory]
    [InlineData(5, 20, 4, "needs 20 elements in Features, but it holds 16")]
    [InlineData(4, 16, 3, "needs 4 elements in Labels, but it holds 3")]
    public void A_batch_whose_count_exceeds_its_arrays_is_refused_by_name(int count, int features, int labels, string expected)
    {
        using var net = new IrisNet(seed: 1);
        var batch = new Batch { Count = count, FeatureSize = 4, Features = new float[Math.Min(features, 16)], Labels = new int[labels] };

        var error = Assert.Throws<InvalidDataException>(() => net.TrainOnBatch(batch));

        Assert.Contains("TrainOnBatch", error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void Null_arrays_are_refused_by_name()
    {
        using var net = new IrisNet(seed: 1);
        var batch = new Batch { Count = 1, FeatureSize = 4, Features = null!, Labels = [0] };

        var error = Assert.Throws<InvalidDataException>(() => net.Evaluate(Dataset.From([batch])));

        Assert.Contains("Features is null", error.Message);
    }

    [Fact]
    public void A_count_too_large_for_any_buffer_says_how_many_fit()
    {
        using var net = new MnistCnn(seed: 1);
        var batch = new Batch { Count = int.MaxValue, FeatureSize = MnistCnn.InputSize };

        var error = Assert.Throws<InvalidDataException>(() => net.TrainOnBatch(batch));

        // The widest layer output is 28 × 28 × 16 = 12,544 floats per example.
        Assert.Contains($"at most {Array.MaxLength / 12_544} examples fit", error.Message);
    }

    [Fact]
    public void Batch_of_int_MaxValue_over_a_finite_dataset_is_one_batch_of_everything()
    {
        var batches = Datasets.Iris().Batch(int.MaxValue).ToList();

        var batch = Assert.Single(batches);
        Assert.Equal(150, batch.Count);
        Assert.Equal(600, batch.Features.Length);
    }

    [Fact]
    public void Batch_of_int_MaxValue_over_an_endless_dataset_is_refused_clearly()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Datasets.Iris().Repeat().Batch(int.MaxValue).First());

        Assert.Contains($"A batch of {int.MaxValue} examples of 4 values", error.Message);
    }
}

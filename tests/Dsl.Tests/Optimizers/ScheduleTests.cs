using Kiln.Tests.Training;
using TrainingData = Kiln.Tests.Training.Data;

namespace Kiln.Tests.Optimizers;

public class ScheduleTests
{
    [Fact]
    public void Schedules_give_keras_values_at_hand_computed_steps()
    {
        // ExponentialDecay(0.1, 10, 0.5): step 5 → 0.1·0.5^0.5; staircase → 0.1 until step 10, then 0.05.
        Assert.Equal(0.1 * Math.Pow(0.5, 0.5), new ExponentialDecay(0.1, 10, 0.5).Rate(5), 7);
        Assert.Equal(0.1f, new ExponentialDecay(0.1, 10, 0.5, staircase: true).Rate(9));
        Assert.Equal(0.05f, new ExponentialDecay(0.1, 10, 0.5, staircase: true).Rate(10));
        // InverseTimeDecay(0.1, 10, 0.5): step 20 → 0.1/(1 + 0.5·2) = 0.05; staircase at 15 → 0.1/1.5.
        Assert.Equal(0.05f, new InverseTimeDecay(0.1, 10, 0.5).Rate(20));
        Assert.Equal((float)(0.1 / 1.5), new InverseTimeDecay(0.1, 10, 0.5, staircase: true).Rate(15));
        // PiecewiseConstantDecay([10, 20], [1, 0.5, 0.1]): a boundary step still has the earlier value.
        var piecewise = new PiecewiseConstantDecay([10, 20], [1f, 0.5f, 0.1f]);
        Assert.Equal([1f, 1f, 0.5f, 0.5f, 0.1f], new long[] { 0, 10, 11, 20, 21 }.Select(piecewise.Rate));
        // CosineDecay(1, 100, α 0.1): step 50 → (0.9·0.5 + 0.1) = 0.55; after 100 it stays at 0.1.
        Assert.Equal(0.55f, new CosineDecay(1, 100, alpha: 0.1).Rate(50), 6);
        Assert.Equal(0.1f, new CosineDecay(1, 100, alpha: 0.1).Rate(1000), 6);
        // With warm-up from 0 to 1 over 10 steps: step 5 → 0.5; step 10 starts the decay at 1; step 60 → 0.5.
        var warm = new CosineDecay(0, 100, warmupTarget: 1, warmupSteps: 10);
        Assert.Equal([0f, 0.5f, 1f], new long[] { 0, 5, 10 }.Select(warm.Rate));
        Assert.Equal(0.5f, warm.Rate(60), 6);
    }

    [Fact]
    public void Bad_schedules_are_refused_by_argument()
    {
        Assert.Equal("values", Assert.Throws<ArgumentException>(() => new PiecewiseConstantDecay([10], [1f])).ParamName);
        Assert.Equal("boundaries", Assert.Throws<ArgumentException>(() => new PiecewiseConstantDecay([10, 5], [1f, 2f, 3f])).ParamName);
        Assert.Equal("decaySteps", Assert.Throws<ArgumentOutOfRangeException>(() => new ExponentialDecay(0.1, 0, 0.5)).ParamName);
        Assert.Equal("warmupSteps", Assert.Throws<ArgumentException>(() => new CosineDecay(0.1, 10, warmupSteps: 5)).ParamName);
    }

    [Fact]
    public void Fit_evaluates_the_schedule_at_each_zero_based_iteration()
    {
        // PiecewiseConstantDecay([k], [0.1, tiny]) trains k + 1 steps (iterations 0..k) at 0.1, then barely moves:
        // the run must equal k + 1 plain SGD steps at 0.1 to within the tiny rate, and differ from k steps.
        const int k = 40;
        var data = TrainingData.Iris(3).Train.Repeat().Batch(16);
        using var scheduled = new IrisNet(seed: 5);
        scheduled.Fit(data, 1, stepsPerEpoch: 2 * k, optimizer: new Sgd(new PiecewiseConstantDecay([k], [0.1f, 1e-30f])), options: TrainingData.Quiet);
        using var plain = new IrisNet(seed: 5);
        plain.Fit(data, 1, stepsPerEpoch: k + 1, optimizer: new Sgd(0.1f), options: TrainingData.Quiet);
        using var shorter = new IrisNet(seed: 5);
        shorter.Fit(data, 1, stepsPerEpoch: k, optimizer: new Sgd(0.1f), options: TrainingData.Quiet);

        Assert.Equal(plain.GetParameters(), scheduled.GetParameters());
        Assert.NotEqual(shorter.GetParameters(), scheduled.GetParameters());
    }
}

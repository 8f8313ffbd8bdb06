using Kiln.Tests.Training;
using TrainingData = Kiln.Tests.Training.Data;

namespace Kiln.Tests.Concurrency;

/// <summary>
/// Predict while Fit or TrainOnBatch runs on the same network. Before the executor pool this killed the process
/// with an AccessViolationException on the CNN and silently changed the trained weights on Iris. Now each
/// prediction must equal a serial prediction with the parameters of some completed step, and training must end
/// with the same bits as without the predictions.
/// </summary>
public class PredictDuringTrainingTests
{
    [Fact]
    public void Cnn_predictions_during_Fit_match_some_completed_step_and_training_is_unchanged()
    {
        var train = Dataset.From([.. Datasets.Mnist().Train.Take(96)]).Batch(32);
        var probes = Datasets.Mnist().Test.Take(3).Select(e => e.Features).ToArray();
        using var net = new MnistCnn(seed: 7);
        var snapshots = new List<float[]> { net.GetParameters() };
        var steps = new StepSnapshots(net, snapshots);
        var done = 0;

        var seen = new List<(int Probe, float[] Output)>[2];
        var predictors = StartPredictors(net, probes, seen, () => Volatile.Read(ref done) != 0);
        net.Fit(train, epochs: 2, options: TrainingData.Quiet, progress: steps);
        Volatile.Write(ref done, 1);
        predictors.ForEach(t => t.Join());

        using var reference = new MnistCnn(seed: 7);
        reference.Fit(train, epochs: 2, options: TrainingData.Quiet);
        Assert.Equal(reference.GetParameters(), net.GetParameters());
        AssertEachOutputComesFromSomeSnapshot(reference, snapshots, probes, seen.SelectMany(s => s).ToList());
    }

    [Fact]
    public void Iris_predictions_during_TrainOnBatch_leave_the_trained_weights_as_serial_training_makes_them()
    {
        var batches = TrainingData.Iris().Train.Batch(16).ToList();
        var probes = Datasets.Iris().Take(5).Select(e => e.Features).ToArray();
        using var net = new IrisNet(seed: 11);
        var snapshots = new List<float[]> { net.GetParameters() };
        var done = 0;
        var seen = new List<(int Probe, float[] Output)>[4];
        var predictors = StartPredictors(net, probes, seen, () => Volatile.Read(ref done) != 0);
        var optimizer = new Adam(0.01f);
        for (var step = 0; step < 150; step++)
        {
            net.TrainOnBatch(batches[step % batches.Count], optimizer);
            snapshots.Add(net.GetParameters());
        }
        Volatile.Write(ref done, 1);
        predictors.ForEach(t => t.Join());

        using var reference = new IrisNet(seed: 11);
        var referenceOptimizer = new Adam(0.01f);
        for (var step = 0; step < 150; step++)
        {
            reference.TrainOnBatch(batches[step % batches.Count], referenceOptimizer);
        }
        Assert.Equal(reference.GetParameters(), net.GetParameters());
        AssertEachOutputComesFromSomeSnapshot(reference, snapshots, probes, seen.SelectMany(s => s).ToList());
    }

    // Threads that predict the probes in turn until told to stop (each makes at least one call).
    private static List<Thread> StartPredictors(Network net, float[][] probes, List<(int Probe, float[] Output)>[] seen, Func<bool> stop)
    {
        var threads = Enumerable.Range(0, seen.Length).Select(t => new Thread(() =>
        {
            var mine = seen[t] = [];
            while (!stop() || mine.Count == 0)
            {
                var probe = mine.Count % probes.Length;
                mine.Add((probe, net.Predict(probes[probe])));
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        return threads;
    }

    private static void AssertEachOutputComesFromSomeSnapshot(Network reference, List<float[]> snapshots, float[][] probes, List<(int Probe, float[] Output)> seen)
    {
        var possible = new HashSet<string>();
        foreach (var parameters in snapshots)
        {
            reference.SetParameters(parameters);
            for (var p = 0; p < probes.Length; p++)
            {
                possible.Add(Key(p, reference.Predict(probes[p])));
            }
        }
        var unexplained = seen.Where(s => !possible.Contains(Key(s.Probe, s.Output))).ToList();
        Assert.True(unexplained.Count == 0, $"{unexplained.Count} of {seen.Count} predictions match no completed step, e.g. probe {unexplained.FirstOrDefault().Probe}");
        Assert.True(seen.Count >= 3, $"only {seen.Count} predictions ran");
    }

    private static string Key(int probe, float[] output) => probe + ":" + string.Join(",", output.Select(BitConverter.SingleToInt32Bits));

    /// <summary>Called on Fit's thread after every step, so it sees the parameters of each step in turn.</summary>
    private sealed class StepSnapshots(Network net, List<float[]> snapshots) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => snapshots.Add(net.GetParameters());
    }
}

using Kiln.Tests.Training;
using TrainingData = Kiln.Tests.Training.Data;

namespace Kiln.Tests.Concurrency;

/// <summary>
/// Predict and Evaluate from several threads on one network, compared bit for bit with serial calls. Before the
/// executor pool, 8 threads gave wrong Iris answers in about a fifth of the calls and made the CNN throw.
/// </summary>
public class ConcurrentInferenceTests
{
    private const int Threads = 8;

    [Fact]
    public void Iris_predictions_from_eight_threads_are_bit_identical_to_serial()
    {
        using var net = new IrisNet(seed: 3);
        net.Fit(TrainingData.Iris().Train.Batch(16), epochs: 20, options: TrainingData.Quiet);
        var examples = Datasets.Iris().Select(e => e.Features).ToArray();

        AssertConcurrentMatchesSerial(net, examples, callsPerThread: 3_000);
    }

    [Fact]
    public void Cnn_predictions_from_eight_threads_are_bit_identical_to_serial()
    {
        using var net = new MnistCnn(seed: 5);
        var digits = Datasets.Mnist().Test.Take(40).ToList();
        net.TrainOnBatch(Datasets.Mnist().Train.Take(64).Batch(64).First());
        // Single images, and batches of several sizes, so executors holding buffers of other sizes meet each call.
        var inputs = digits.Select(d => d.Features)
            .Concat(Enumerable.Range(2, 6).Select(n => digits.Take(n).SelectMany(d => d.Features).ToArray()))
            .ToArray();

        AssertConcurrentMatchesSerial(net, inputs, callsPerThread: 60);
    }

    [Fact]
    public void Evaluate_from_several_threads_gives_the_serial_counts_loss_and_accuracy()
    {
        using var net = new IrisNet(seed: 4);
        var (train, test) = TrainingData.Iris();
        net.Fit(train.Batch(16), epochs: 10, options: TrainingData.Quiet);
        var data = Datasets.Iris().Repeat(20).Batch(50);
        var serial = net.Evaluate(data);
        Assert.Equal(3_000, serial.Count);

        var results = RunOnThreads(4, _ => Enumerable.Range(0, 5).Select(_ => net.Evaluate(data)).ToList());

        foreach (var result in results.SelectMany(r => r))
        {
            Assert.Equal(serial, result);
        }
        Assert.Equal(test.Count, net.Evaluate(test.Batch(8)).Count);
    }

    [Fact]
    public void ReleaseBuffers_gives_back_large_batch_memory_and_changes_no_result()
    {
        // 100,000 examples: about 14 MB of layer buffers in training and as much in the evaluation executor.
        var random = new Random(3);
        var x = Enumerable.Range(0, 100_000).Select(_ => new[] { (float)random.NextDouble(), (float)random.NextDouble() }).ToArray();
        var data = Dataset.FromArrays(x, [.. x.Select(p => new[] { p[0] > p[1] ? 1f : 0f })]);
        var large = data.Batch(100_000).First();
        var small = data.Take(16).Batch(16).First();
        using var net = new XorNet(seed: 2);
        using var twin = new XorNet(seed: 2);
        var (optimizer, twinOptimizer) = (new Adam(), new Adam());
        net.TrainOnBatch(large, optimizer);
        twin.TrainOnBatch(large, twinOptimizer);
        net.Evaluate(data.Batch(100_000));
        var before = GC.GetTotalMemory(forceFullCollection: true);

        net.ReleaseBuffers();
        var after = GC.GetTotalMemory(forceFullCollection: true);

        Assert.True(before - after > 15_000_000, $"released {(before - after) / 1e6:0.0} MB");
        net.TrainOnBatch(small, optimizer);
        twin.TrainOnBatch(small, twinOptimizer);
        Assert.Equal(twin.GetParameters(), net.GetParameters());
        Assert.Equal(twin.Predict(x[0]), net.Predict(x[0]));
    }

    private static void AssertConcurrentMatchesSerial(Network net, float[][] inputs, int callsPerThread)
    {
        var outputSize = net.Info.OutputSize;
        var serial = inputs.Select(x =>
        {
            var output = new float[x.Length / net.Info.InputSize * outputSize];
            net.Predict(x, output);
            return output;
        }).ToArray();

        var mismatches = RunOnThreads(Threads, thread =>
        {
            var wrong = new List<string>();
            for (var call = 0; call < callsPerThread; call++)
            {
                // Threads walk the inputs from different starts, so concurrent calls see different inputs.
                var i = (call * 7 + thread * 13) % inputs.Length;
                var output = new float[inputs[i].Length / net.Info.InputSize * outputSize];
                net.Predict(inputs[i], output);
                if (!output.AsSpan().SequenceEqual(serial[i]) && wrong.Count < 3)
                {
                    wrong.Add($"thread {thread}, call {call}, input {i}: [{string.Join(", ", output.Take(3))}…] instead of [{string.Join(", ", serial[i].Take(3))}…]");
                }
            }
            return wrong;
        });

        var all = mismatches.SelectMany(m => m).ToList();
        Assert.True(all.Count == 0, string.Join(Environment.NewLine, all));
    }

    // Starts every thread at once and rethrows the first failure.
    internal static T[] RunOnThreads<T>(int count, Func<int, T> body)
    {
        var results = new T[count];
        var failures = new Exception?[count];
        using var start = new Barrier(count);
        var threads = Enumerable.Range(0, count).Select(t => new Thread(() =>
        {
            try
            {
                start.SignalAndWait();
                results[t] = body(t);
            }
            catch (Exception e)
            {
                failures[t] = e;
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        if (failures.FirstOrDefault(f => f is not null) is { } failure)
        {
            throw new AggregateException(failure);
        }
        return results;
    }
}

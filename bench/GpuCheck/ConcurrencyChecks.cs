using Kiln;

namespace GpuCheck;

/// <summary>
/// (c) One network on Device.Cuda used from several threads: each caller gets a CUDA executor of its own (own stream,
/// staging and buffers), so concurrent predictions must be bit-identical to serial ones, and predictions during Fit
/// must neither fail nor leave the trained parameters different from a run without them.
/// </summary>
internal static class ConcurrencyChecks
{
    public static void Predict(Report report, MnistData mnist)
    {
        var digits = mnist.Test.Take(32).Select(e => e.Features).ToArray();
        var train = Dataset.From([.. mnist.Train.Take(2048)]).Batch(128);
        using var net = new MnistCnn(3, Device.Cuda);
        net.Fit(train, 1, options: new FitOptions { Verbose = false });
        var serial = digits.Select(d => net.Predict(d)).ToArray();
        var wrong = 0;
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, t =>
        {
            for (var call = 0; call < 200; call++)
            {
                var i = (call + t * 5) % digits.Length;
                if (!net.Predict(digits[i]).AsSpan().SequenceEqual(serial[i]))
                {
                    Interlocked.Increment(ref wrong);
                }
            }
        });
        report.Expect("MNIST CNN on the GPU: 8 threads × 200 predictions bit-identical to serial", wrong == 0, $"{wrong} of 1,600 differ");

        using var reference = new MnistCnn(3, Device.Cuda);
        using var busy = new MnistCnn(3, Device.Cuda);
        var stop = 0;
        var calls = 0L;
        var predictors = Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            while (Volatile.Read(ref stop) == 0)
            {
                busy.Predict(digits[t]);
                Interlocked.Increment(ref calls);
            }
        })).ToArray();
        busy.Fit(train, 2, options: new FitOptions { Verbose = false });
        Volatile.Write(ref stop, 1);
        Task.WaitAll(predictors);
        reference.Fit(train, 2, options: new FitOptions { Verbose = false });
        var same = reference.GetParameters().AsSpan().SequenceEqual(busy.GetParameters());
        report.Expect("MNIST CNN on the GPU: Fit with 4 threads predicting meanwhile ends with the same parameters", same, $"{calls} predictions during Fit");
    }
}

using System.Diagnostics;
using System.Globalization;
using Kiln;

/// <summary>
/// Single-example Predict throughput with 1, 2 and 8 threads calling one network at once (the executor pool gives
/// each its own buffers), for the Iris MLP and the MNIST CNN.
/// </summary>
internal static class ConcurrentPredict
{
    public static int Run(double seconds, int repeat)
    {
        using var iris = new IrisNet(seed: 1);
        iris.Fit(Datasets.Iris().Batch(16), epochs: 5, options: new FitOptions { Verbose = false });
        using var cnn = new MnistCnn(seed: 1);
        var irisInputs = Datasets.Iris().Select(e => e.Features).ToArray();
        var digits = Datasets.Mnist().Test.Take(64).Select(e => e.Features).ToArray();
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}");
        Console.WriteLine("| network | callers | predictions/s (one example per call), each round | median | per caller |");
        Console.WriteLine("|---|---|---|---|---|");
        foreach (var (name, net, inputs) in new (string, Network, float[][])[] { ("IrisNet", iris, irisInputs), ("MnistCnn", cnn, digits) })
        {
            foreach (var callers in new[] { 1, 2, 8 })
            {
                Measure(net, inputs, callers, 0.5);
                var rates = Enumerable.Range(0, repeat).Select(_ => Measure(net, inputs, callers, seconds)).ToList();
                var median = rates.Order().ElementAt(rates.Count / 2);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {name} | {callers} | {string.Join(" / ", rates.Select(r => r.ToString("N0", CultureInfo.InvariantCulture)))} | {median:N0} | {median / callers:N0} |"));
            }
        }
        return 0;
    }

    // Calls from `callers` threads for `seconds`; returns predictions per second, all threads together.
    private static double Measure(Network net, float[][] inputs, int callers, double seconds)
    {
        var counts = new long[callers];
        var stop = 0;
        using var start = new Barrier(callers + 1);
        var threads = Enumerable.Range(0, callers).Select(t => new Thread(() =>
        {
            var output = new float[net.Info.OutputSize];
            start.SignalAndWait();
            var n = 0L;
            while (Volatile.Read(ref stop) == 0)
            {
                net.Predict(inputs[(int)((n + t * 17) % inputs.Length)], output);
                n++;
            }
            counts[t] = n;
        })).ToList();
        threads.ForEach(t => t.Start());
        start.SignalAndWait();
        var clock = Stopwatch.StartNew();
        Thread.Sleep(TimeSpan.FromSeconds(seconds));
        Volatile.Write(ref stop, 1);
        threads.ForEach(t => t.Join());
        return counts.Sum() / clock.Elapsed.TotalSeconds;
    }
}

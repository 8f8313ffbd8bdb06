using System.Diagnostics;
using Kiln;

namespace GpuCheck;

/// <summary>(c) The workshop networks on Device.Cuda: accuracy targets, and parameters beside the CPU's after identical steps.</summary>
internal static class TrainingChecks
{
    private static readonly FitOptions Quiet = new() { Verbose = false };

    /// <summary>The Iris example's run (seed 1, 10 epochs of 150 Adam steps, batch 32) must reach the CPU's target.</summary>
    public static void Iris(Report report)
    {
        var (train, test) = Datasets.Iris().Split(testFraction: 0.25, seed: 1);
        using var net = new IrisNet(1, Device.Cuda);
        var clock = Stopwatch.StartNew();
        net.Fit(train.Repeat().Shuffle(1000, 1).Batch(32), 10, stepsPerEpoch: 150, optimizer: new Adam(), options: Quiet);
        var result = net.Evaluate(test.Batch(32));
        report.Expect("Iris on the GPU: test accuracy ≥ 0.9 after 10×150 steps", result.Accuracy >= 0.9,
            $"accuracy {result.Accuracy:0.0000}, loss {result.Loss:0.0000} on {net.DeviceName} in {clock.Elapsed.TotalSeconds:0.00} s");
    }

    /// <summary>One epoch over the embedded 8,000 training digits as the MNIST example runs it (seed 1, batch 128).</summary>
    public static void Mnist(Report report, MnistData mnist)
    {
        using var net = new MnistCnn(1, Device.Cuda);
        var clock = Stopwatch.StartNew();
        net.Fit(mnist.Train.Cache().Shuffle((int)mnist.Train.Count!.Value, 1).Batch(128).Prefetch(), 1, options: Quiet);
        var result = net.Evaluate(mnist.Test.Batch(512));
        report.Expect("MNIST CNN on the GPU: embedded test accuracy ≥ 0.90 after 1 epoch", result.Accuracy >= 0.90,
            $"accuracy {result.Accuracy:0.0000}, loss {result.Loss:0.0000} in {clock.Elapsed.TotalSeconds:0.00} s");
    }

    /// <summary>The modern CNN (BatchNormalization, global pooling) over two epochs must reach what the CPU reaches.</summary>
    public static void Modern(Report report, MnistData mnist)
    {
        using var net = new ModernCnn(1, Device.Cuda);
        var clock = Stopwatch.StartNew();
        net.Fit(mnist.Train.Cache().Shuffle((int)mnist.Train.Count!.Value, 1).Batch(128).Prefetch(), 2, options: Quiet);
        var result = net.Evaluate(mnist.Test.Batch(512));
        report.Expect("Modern CNN on the GPU: embedded test accuracy ≥ 0.85 after 2 epochs (the CPU: 0.8865)", result.Accuracy >= 0.85,
            $"accuracy {result.Accuracy:0.0000}, loss {result.Loss:0.0000} in {clock.Elapsed.TotalSeconds:0.00} s");
    }

    /// <summary>
    /// Two copies of a network, one per device, from the same seed, take the same <paramref name="steps"/> steps;
    /// their per-step losses, parameters and predictions must agree within 1e-5 + 1e-3·|cpu| (parameters,
    /// predictions) and 1e-6 + 1e-4·|cpu| (losses). SGD with momentum rather than Adam: Adam's first steps move a
    /// parameter by about ±lr whatever |g|, so a gradient within rounding of zero could flip sign on one device.
    /// Dropout masks are the same on both: they hash (seed, step, element).
    /// </summary>
    public static void Parity(Report report, string name, Func<Device, Network> create, Dataset<Batch> batches, float[] probe, int steps)
    {
        using var cpu = create(Device.Cpu);
        using var gpu = create(Device.Cuda);
        var (cpuOptimizer, gpuOptimizer) = (new Sgd(0.01f, 0.9f), new Sgd(0.01f, 0.9f));
        var (cpuLoss, gpuLoss) = (new List<double>(), new List<double>());
        foreach (var batch in batches.Take(steps))
        {
            cpuLoss.Add(cpu.TrainOnBatch(batch, cpuOptimizer).Loss);
            gpuLoss.Add(gpu.TrainOnBatch(batch, gpuOptimizer).Loss);
        }
        var tolerance = new Tolerance(1e-5, 1e-3);
        report.Result(Comparison.Of($"{name}: loss of each of {steps} steps", [.. gpuLoss], [.. cpuLoss], new Tolerance(1e-6, 1e-4), default));
        report.Result(Comparison.Of($"{name}: parameters after {steps} SGD steps", gpu.GetParameters(), cpu.GetParameters(), tolerance));
        var outputs = probe.Length / cpu.Info.InputSize * cpu.Info.OutputSize;
        var (cpuOut, gpuOut) = (new float[outputs], new float[outputs]);
        cpu.Predict(probe, cpuOut);
        gpu.Predict(probe, gpuOut);
        report.Result(Comparison.Of($"{name}: predictions after {steps} steps", gpuOut, cpuOut, tolerance));
    }

    /// <summary>The features of the first <paramref name="count"/> examples, one after another.</summary>
    public static float[] Features(Dataset<Example> examples, int count) => [.. examples.Take(count).SelectMany(e => e.Features)];
}

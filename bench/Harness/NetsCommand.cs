using System.Diagnostics;
using System.Globalization;
using Kiln;
using Kiln.IO;

namespace Nets;

/// <summary>
/// One network of the list: its name (the peer's too), where it comes from, its batch, Keras' parameter count, and the
/// factor its pixels get (255 for a network that rescales raw pixels itself: fed [0, 1] it would not learn, and a
/// network whose ReLUs stay dead would flatter a kernel that skips zeros).
/// </summary>
internal sealed record NetSpec(string Name, string Source, int Batch, int KerasParameters, Func<Network> Create, float PixelScale = 1);

/// <summary>
/// Issue 20's table: each network trains one epoch of Fashion-MNIST in a process of its own (so its peak resident
/// memory is its own), then the same network in PyTorch, then both predict at batch 128. Static; one run at a time.
/// </summary>
internal static class NetsCommand
{
    public const int InferenceBatch = 128;

    public static readonly NetSpec[] All =
    [
        new("workshop", "the workshop CNN (examples/Mnist/MnistCnn.cs): 5×5 same, conv → pool twice", 128, 215_370, () => new MnistCnn(seed: 1)),
        new("keras-mnist-convnet", "Keras' \"Simple MNIST convnet\": 3×3 valid, conv → pool twice", 128, 34_826, () => new KerasMnistConvnet(seed: 1)),
        new("pytorch-mnist", "pytorch/examples mnist: 3×3 valid conv → conv → pool, Dense 128", 64, 1_199_882, () => new PyTorchMnistExample(seed: 1)),
        new("lenet5", "LeNet-5 as d2l.ai trains it (tanh): 5×5 same and valid, average pooling", 256, 61_706, () => new LeNet5(seed: 1)),
        new("tf-classification", "TensorFlow's image-classification tutorial: raw pixels, Rescaling, 3×3 same conv → pool ×3", 32, 98_442, () => new TfImageClassification(seed: 1), PixelScale: 255),
        new("small-vgg", "two VGG blocks (machinelearningmastery): 3×3 same conv → conv → pool ×2", 64, 467_818, () => new SmallVgg(seed: 1)),
        new("vgg-bn", "the same with Conv-BN-ReLU (no conv bias)", 128, 468_394, () => new VggBatchNorm(seed: 1)),
        new("modern", "the modern CNN (examples/Mnist/ModernCnn.cs): Conv-BN-ReLU ×3, global pooling", 128, 24_282, () => new ModernCnn(seed: 1)),
    ];

    /// <summary>Every selected network, Kiln's child process then the peer, <paramref name="repeat"/> rounds; one table of medians.</summary>
    public static int Run(int images, string? filter, DirectoryInfo data, bool runPeer, int repeat, double inferSeconds, int threads)
    {
        var selected = Select(filter);
        if (selected is null)
        {
            return 2;
        }
        // The GEMM runs on every core; a run on fewer gets its share.
        var calibration = Measure.GemmRate() * Math.Min(threads, Environment.ProcessorCount) / Environment.ProcessorCount;
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}; {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        Console.WriteLine(Invariant($"calibration: Kiln's 512³ GEMM at {calibration:0} GFLOP/s on {threads} core(s); {images:N0} training images per network from {data.FullName}, {repeat} round(s), medians; {threads} thread(s) each side"));
        Console.WriteLine("ratio = Kiln's time / PyTorch's (issue 20's target: ≤ 0.5); peak = the process's peak resident set, with the part holding the data set in parentheses");
        Console.WriteLine();
        Console.WriteLine("| network | params | batch | Kiln train img/s | PyTorch train img/s | train ratio | Kiln infer img/s | PyTorch infer img/s | infer ratio | Kiln peak MB (data) | PyTorch peak MB (data) | Kiln train GFLOP/s (% of calibration) | loss Kiln / PyTorch |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        var flops = new Dictionary<string, double>();
        foreach (var spec in selected)
        {
            List<Dictionary<string, string>> kiln = [], torch = [];
            for (var round = 0; round < repeat; round++)
            {
                if (Peer.RunSelf(Invariant($"nets-one --network {spec.Name} --images {images} --data \"{data.FullName}\" --infer-seconds {inferSeconds}"), threads) is { } k)
                {
                    kiln.Add(k);
                }
                if (runPeer && Peer.RunPyTorch(Invariant($"net \"{data.FullName}\" --network {spec.Name} --images {images} --batch {spec.Batch} --infer-seconds {inferSeconds}"), threads) is { } t)
                {
                    torch.Add(t);
                }
            }
            if (torch.FirstOrDefault() is { } first && first["params"] != spec.KerasParameters.ToString(CultureInfo.InvariantCulture))
            {
                Console.WriteLine($"{spec.Name}: PyTorch's network has {first["params"]} parameters, Keras' {spec.KerasParameters}: not the same network.");
                return 1;
            }
            double M(List<Dictionary<string, string>> runs, string key) =>
                runs.Count == 0 ? double.NaN : Measure.Median(runs.Select(r => double.Parse(r[key], CultureInfo.InvariantCulture)));
            var (kTrain, tTrain) = (M(kiln, "images_per_second"), M(torch, "images_per_second"));
            var (kInfer, tInfer) = (M(kiln, "infer_images_per_second"), M(torch, "infer_images_per_second"));
            flops[spec.Name] = M(kiln, "train_flops");
            var gflops = kTrain * flops[spec.Name] / 1e9;
            Console.WriteLine(Invariant(
                $"| {spec.Name} | {spec.KerasParameters:N0} | {spec.Batch} | {kTrain:N0} | {tTrain:N0} | {tTrain / kTrain:0.00} | {kInfer:N0} | {tInfer:N0} | {tInfer / kInfer:0.00} | {M(kiln, "peak_mb"):0} ({M(kiln, "data_mb"):0}) | {M(torch, "peak_mb"):0} ({M(torch, "data_mb"):0}) | {gflops:0.0} ({gflops / calibration:0%}) | {M(kiln, "loss"):0.000} / {M(torch, "loss"):0.000} |"));
        }
        Console.WriteLine();
        foreach (var spec in selected)
        {
            Console.WriteLine(Invariant($"- {spec.Name} ({flops.GetValueOrDefault(spec.Name, double.NaN) / 1e6:0.00} MFLOP per training image): {spec.Source}"));
        }
        Console.WriteLine(Invariant($"calibration again at the end: {Measure.GemmRate():0} GFLOP/s"));
        return 0;
    }

    /// <summary>One network in this process: an epoch of Fit, then predictions at batch 128; one line of key=value pairs.</summary>
    public static int RunOne(string name, int images, DirectoryInfo data, double inferSeconds)
    {
        if (Select(name) is not [var spec])
        {
            return 2;
        }
        var train = Idx.ReadExamples(Find(data, MnistData.TrainImagesFile), Find(data, MnistData.TrainLabelsFile));
        if (spec.PixelScale != 1)
        {
            // The loader keeps the bytes and reads them as byte / 255: raw pixels need a float copy of their own.
            train = Dataset.From(train.Select(e => e with { Features = e.Features.Select(v => v * spec.PixelScale).ToArray() }).ToList());
        }
        GC.Collect();
        var dataMb = Measure.StatusMb("VmRSS");
        using var net = spec.Create();
        if (net.Info.ParameterCount != spec.KerasParameters)
        {
            Console.WriteLine($"error: {spec.Name} has {net.Info.ParameterCount} parameters, Keras counts {spec.KerasParameters}.");
            return 1;
        }
        var quiet = new FitOptions { Verbose = false };
        var steps = Math.Max(1, images / spec.Batch);
        // The warm-up's steps depend on the clock: the epoch starts again from the seed's weights and a fresh Adam, so
        // its loss is the same in every run of the same code (and comparable with the peer's, which does the same).
        var initial = net.GetParameters();
        Measure.Warm(() => net.Fit(train.Repeat().Batch(spec.Batch, dropRemainder: true), 1, stepsPerEpoch: 2, optimizer: new Adam(), options: quiet));
        net.SetParameters(initial);
        var optimizer = new Adam();
        // In order, as the peer does: the same batches on both sides, the data repeating past 60,000 images.
        var clock = Stopwatch.StartNew();
        var history = net.Fit(train.Repeat().Batch(spec.Batch, dropRemainder: true), 1, stepsPerEpoch: steps, optimizer: optimizer, options: quiet);
        var seconds = clock.Elapsed.TotalSeconds;

        var probe = train.Take(InferenceBatch).Batch(InferenceBatch).First().Features;
        var outputs = new float[InferenceBatch * net.Info.OutputSize];
        Measure.Warm(() => net.Predict(probe, outputs));
        var (calls, inferClock) = (0, Stopwatch.StartNew());
        while (inferClock.Elapsed.TotalSeconds < inferSeconds)
        {
            net.Predict(probe, outputs);
            calls++;
        }
        var inferRate = calls * InferenceBatch / inferClock.Elapsed.TotalSeconds;
        Console.WriteLine(Invariant(
            $"kiln network={spec.Name} params={net.Info.ParameterCount} images={steps * spec.Batch} seconds={seconds:0.000} images_per_second={steps * spec.Batch / seconds:0.0} infer_images_per_second={inferRate:0.0} peak_mb={Measure.StatusMb("VmHWM"):0} data_mb={dataMb:0} loss={history.Epochs[^1].Loss:0.0000} train_flops={TrainingFlops(net.Info):0}"));
        return 0;
    }

    /// <summary>
    /// Dense-equivalent FLOPs of one training image: 2 × the multiply-adds of every convolution and dense layer forward,
    /// again for their weight gradients, and again for their data gradients but the first layer's (no layer below it).
    /// Pooling, normalisation and activations are memory-bound and not counted.
    /// </summary>
    public static double TrainingFlops(NetworkInfo info)
    {
        var forward = info.Layers.Select(l => l.Type switch
        {
            "Conv2D" => (double)l.OutputShape[0] * l.OutputShape[1] * l.OutputShape[2] * l.Get("kernel_size", 0) * l.Get("kernel_size", 0) * l.InputShape[2],
            "Dense" => (double)l.InputShape[0] * l.OutputShape[0],
            _ => 0,
        }).Where(m => m > 0).ToList();
        return 2 * (3 * forward.Sum() - forward[0]);
    }

    private static NetSpec[]? Select(string? filter)
    {
        if (string.IsNullOrEmpty(filter))
        {
            return All;
        }
        var names = filter.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var unknown = names.Where(n => All.All(s => s.Name != n)).ToList();
        if (unknown.Count > 0)
        {
            Console.WriteLine($"--network: unknown {string.Join(", ", unknown)}; the networks are {string.Join(", ", All.Select(s => s.Name))}.");
            return null;
        }
        return All.Where(s => names.Contains(s.Name)).ToArray();
    }

    private static string Find(DirectoryInfo directory, string name) =>
        new[] { name, name + ".gz" }.Select(n => Path.Combine(directory.FullName, n)).FirstOrDefault(File.Exists)
        ?? throw new FileNotFoundException($"--data {directory.FullName} has neither {name} nor {name}.gz.", Path.Combine(directory.FullName, name));

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

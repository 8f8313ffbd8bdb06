using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Kiln;

// Whole-network timings beside the PyTorch peer (bench/pytorch_peer.py), run in the same invocation.

// 2 × the multiply-adds of one MNIST CNN training image: both convolutions forward and their weight gradients, the
// second one's data gradient (the first has none), and both dense layers forward and backward.
const double FlopsPerTrainingImage = 2.0 * (2 * 784 * 16 * 25 + 3 * 196 * 32 * 400 + 3 * 1568 * 128 + 3 * 128 * 10);
var images = new Option<int>("--images") { Description = "Training images in the epoch (the data repeats to reach it)", DefaultValueFactory = _ => 60_000 };
var batch = new Option<int>("--batch") { DefaultValueFactory = _ => 128 };
var data = new Option<DirectoryInfo?>("--data") { Description = "Directory with MNIST IDX files; the embedded subset by default" };
var device = new Option<string>("--device") { DefaultValueFactory = _ => "cpu" };
var peer = new Option<bool>("--no-peer") { Description = "Skip the PyTorch run" };
var repeat = new Option<int>("--repeat") { Description = "Timed epochs (and inference rounds), each reported, then their median: this machine's speed drifts", DefaultValueFactory = _ => 1 };

var mnist = new Command("mnist", "One MNIST CNN training epoch, then inference throughput and latency") { images, batch, data, device, peer, repeat };
mnist.SetAction(r => Mnist(r.GetValue(images), r.GetValue(batch), r.GetValue(data), Device.Parse(r.GetValue(device)!), !r.GetValue(peer), Math.Max(1, r.GetValue(repeat))));
var steps = new Option<int>("--steps") { DefaultValueFactory = _ => 20_000 };
var iris = new Command("iris", "Iris training steps (batch 32, Adam)") { steps, device, peer };
iris.SetAction(r => Iris(r.GetValue(steps), Device.Parse(r.GetValue(device)!), !r.GetValue(peer)));
var stepCount = new Option<int>("--steps") { Description = "Timed training steps per network", DefaultValueFactory = _ => 60 };
var modern = new Command("modern", "Training steps of the modern CNN (Conv-BN-ReLU, global pooling) and the workshop CNN, beside PyTorch") { stepCount, batch, peer, repeat };
modern.SetAction(r => Modern(r.GetValue(stepCount), r.GetValue(batch), !r.GetValue(peer), Math.Max(1, r.GetValue(repeat))));

var epochs = new Option<int>("--epochs") { DefaultValueFactory = _ => 20 };
var irisFit = new Command("iris-fit", "The Iris example's Fit (150 steps per epoch, batch 32, Adam, shuffled repeat): µs/step as its progress line counts it, and allocations") { epochs, device };
irisFit.SetAction(r => IrisFit(r.GetValue(epochs), Device.Parse(r.GetValue(device)!)));
var seconds = new Option<double>("--seconds") { Description = "Timed seconds per round", DefaultValueFactory = _ => 2 };
var predict = new Command("predict", "Single-example Predict throughput with 1, 2 and 8 concurrent callers") { seconds, repeat };
predict.SetAction(r => ConcurrentPredict.Run(r.GetValue(seconds), Math.Max(1, r.GetValue(repeat))));
var netImages = new Option<int>("--images") { Description = "Training images per network (60,000 for the reference run)", DefaultValueFactory = _ => 12_800 };
var network = new Option<string?>("--network") { Description = $"Comma-separated networks to run, of: {string.Join(", ", Nets.NetsCommand.All.Select(s => s.Name))}" };
var fashion = new Option<DirectoryInfo>("--data") { Description = "Directory with the Fashion-MNIST (or MNIST) IDX training files", DefaultValueFactory = _ => new DirectoryInfo("/usr/share/datasets/fashion-mnist") };
var inferSeconds = new Option<double>("--infer-seconds") { Description = "Timed seconds of predictions at batch 128, each side", DefaultValueFactory = _ => 2 };
var threads = new Option<int>("--threads") { Description = "Cores each side uses: Kiln's DOTNET_PROCESSOR_COUNT, PyTorch's threads (1 is steadier on a crowded machine)", DefaultValueFactory = _ => 2 };
var nets = new Command("nets", "Issue 20's table: networks from tutorials, one epoch each beside PyTorch, then inference at batch 128") { netImages, network, fashion, peer, repeat, inferSeconds, threads };
nets.SetAction(r => Nets.NetsCommand.Run(r.GetValue(netImages), r.GetValue(network), r.GetValue(fashion)!, !r.GetValue(peer), Math.Max(1, r.GetValue(repeat)), r.GetValue(inferSeconds), Math.Max(1, r.GetValue(threads))));
var netsOne = new Command("nets-one", "One network of `nets` in this process (what `nets` starts per network)") { netImages, network, fashion, inferSeconds };
netsOne.Hidden = true;
netsOne.SetAction(r => Nets.NetsCommand.RunOne(r.GetValue(network) ?? "", r.GetValue(netImages), r.GetValue(fashion)!, r.GetValue(inferSeconds)));
var layerSeconds = new Option<double>("--seconds") { Description = "Seconds each pass repeats (the best time counts)", DefaultValueFactory = _ => 1 };
var layers = new Command("layers", "Each convolution of the `nets` networks: its plan's paths, forward and backward ms and GFLOP/s against the calibration") { network, layerSeconds };
layers.SetAction(r => Nets.LayersCommand.Run(r.GetValue(network), r.GetValue(layerSeconds)));
return new RootCommand("Kiln benchmark harness") { mnist, iris, predict, modern, irisFit, nets, netsOne, layers }.Parse(args).Invoke();

// Milliseconds per training step of both MNIST networks, Kiln then PyTorch in turn, `repeat` rounds; medians.
static int Modern(int steps, int batchSize, bool runPeer, int repeat)
{
    var batches = Datasets.Mnist().Train.Batch(batchSize, dropRemainder: true).Take(16).ToList();
    using var modern = new ModernCnn(seed: 1);
    using var workshop = new MnistCnn(seed: 1);
    var nets = new (string Name, Network Net, string Peer)[] { ("modern", modern, "modern"), ("workshop", workshop, "mnist") };
    Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}; batch {batchSize}, {steps} steps per round");
    Console.WriteLine("| network | Kiln ms/step | PyTorch ms/step | Kiln / PyTorch |");
    Console.WriteLine("|---|---|---|---|");
    var dir = runPeer ? ExtractEmbedded() : "";
    foreach (var (name, net, peerTask) in nets)
    {
        var optimizer = new Adam();
        Measure.Warm(() => net.TrainOnBatch(batches[0], optimizer));
        List<double> kiln = [], torch = [];
        for (var round = 0; round < repeat; round++)
        {
            var clock = Stopwatch.StartNew();
            for (var step = 0; step < steps; step++)
            {
                net.TrainOnBatch(batches[step % batches.Count], optimizer);
            }
            kiln.Add(clock.Elapsed.TotalMilliseconds / steps);
            if (runPeer && Peer.RunPyTorch($"{peerTask} \"{dir}\" --images {steps * batchSize} --batch {batchSize}") is { } result && result.TryGetValue("seconds", out var seconds))
            {
                torch.Add(double.Parse(seconds, CultureInfo.InvariantCulture) * 1000 / steps);
            }
        }
        var (k, t) = (Measure.Median(kiln), torch.Count > 0 ? Measure.Median(torch) : double.NaN);
        Console.WriteLine(Invariant($"| {name} | {k:0.00} | {t:0.00} | {k / t:0.00} |"));
    }
    return 0;
}

static int Mnist(int imageCount, int batchSize, DirectoryInfo? directory, Device device, bool runPeer, int repeat)
{
    // One pass of the training set as batches, cycled to reach the image count: holding 60,000 images as batches would
    // put the harness's own copy of the data into the peak memory being measured.
    var source = (directory is null ? Datasets.Mnist() : Datasets.Mnist(directory.FullName)).Train;
    var batches = source.Batch(batchSize, dropRemainder: true).ToList();
    using var net = new MnistCnn(seed: 1, device);
    var optimizer = new Adam();
    Measure.Warm(() => net.TrainOnBatch(batches[0], optimizer));

    var steps = imageCount / batchSize;
    imageCount = steps * batchSize;
    var probe = batches[0].Features.AsSpan(0, batchSize * MnistCnn.InputSize).ToArray();
    var outputs = new float[batchSize * MnistCnn.OutputSize];
    var one = new float[MnistCnn.OutputSize];
    Measure.Warm(() => net.Predict(probe, outputs));
    Measure.Warm(() => net.Predict(probe.AsSpan(0, MnistCnn.InputSize), one));
    Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}, device {net.DeviceName}");
    Console.WriteLine($"| run | images/s (train, batch {batchSize}) | epoch of {imageCount:N0} | peak MB | alloc/step (all threads / training thread) | inference images/s | 1-image latency |");
    Console.WriteLine("|---|---|---|---|---|---|---|");
    List<double> trainRates = [], inferRates = [], latencies = [];
    for (var round = 1; round <= repeat; round++)
    {
        // Every thread's allocations (the runtime's own background threads included), and the training thread's alone.
        var (before, beforeHere) = (GC.GetTotalAllocatedBytes(precise: true), GC.GetAllocatedBytesForCurrentThread());
        var clock = Stopwatch.StartNew();
        for (var step = 0; step < steps; step++)
        {
            net.TrainOnBatch(batches[step % batches.Count], optimizer);
        }
        clock.Stop();
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        var allocatedHere = GC.GetAllocatedBytesForCurrentThread() - beforeHere;
        var trainRate = imageCount / clock.Elapsed.TotalSeconds;

        // Predictions after training: the weights changed, so the first call transforms the kernels again.
        net.Predict(probe, outputs);
        var inferClock = Stopwatch.StartNew();
        var inferBatches = 0;
        while (inferClock.Elapsed.TotalSeconds < 2)
        {
            net.Predict(probe, outputs);
            inferBatches++;
        }
        var inferRate = inferBatches * batchSize / inferClock.Elapsed.TotalSeconds;
        var latencyClock = Stopwatch.StartNew();
        const int singles = 2000;
        for (var i = 0; i < singles; i++)
        {
            net.Predict(probe.AsSpan(0, MnistCnn.InputSize), one);
        }
        var latencyUs = latencyClock.Elapsed.TotalMicroseconds / singles;
        var peakMb = Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0;
        trainRates.Add(trainRate);
        inferRates.Add(inferRate);
        latencies.Add(latencyUs);
        Console.WriteLine(Invariant($"| Kiln{(repeat > 1 ? $" {round}" : "")} | {trainRate:N0} | {clock.Elapsed.TotalSeconds:0.00} s | {peakMb:0} | {allocated / (double)steps:0} B / {allocatedHere / (double)steps:0} B | {inferRate:N0} | {latencyUs:0} µs |"));
    }
    var rate = Measure.Median(trainRates);
    if (repeat > 1)
    {
        Console.WriteLine(Invariant($"| Kiln, median of {repeat} | {rate:N0} | | | | {Measure.Median(inferRates):N0} | {Measure.Median(latencies):0} µs |"));
    }
    Console.WriteLine(Invariant($"calibration: Kiln's 512³ GEMM at {Measure.GemmRate():0} GFLOP/s right now (a shared machine's speed drifts between runs)"));
    Console.WriteLine(Invariant($"training arithmetic: {rate * FlopsPerTrainingImage / 1e9:0.0} GFLOP/s ({FlopsPerTrainingImage / 1e6:0.00} MFLOP per image)"));
    if (runPeer)
    {
        var dir = directory?.FullName ?? ExtractEmbedded();
        var result = Peer.RunPyTorch($"mnist \"{dir}\" --images {imageCount} --batch {batchSize}");
        if (result is not null && result.TryGetValue("images_per_second", out var peerRate))
        {
            Console.WriteLine($"| PyTorch {result["torch"]} ({result["threads"]} threads) | {double.Parse(peerRate, CultureInfo.InvariantCulture):N0} | {result["seconds"]} s | {result["peak_mb"]} | | | |");
            Console.WriteLine(Invariant($"Kiln / PyTorch training throughput: {rate / double.Parse(peerRate, CultureInfo.InvariantCulture):0.00}×"));
        }
    }
    return 0;
}

static int Iris(int steps, Device device, bool runPeer)
{
    var (train, _) = Datasets.Iris().Split(0.25, seed: 1);
    var batch = train.Batch(32).First();
    using var net = new IrisNet(seed: 1, device);
    var optimizer = new Adam();
    Measure.Warm(() => net.TrainOnBatch(batch, optimizer));
    var before = GC.GetTotalAllocatedBytes(precise: true);
    var clock = Stopwatch.StartNew();
    for (var i = 0; i < steps; i++)
    {
        net.TrainOnBatch(batch, optimizer);
    }
    clock.Stop();
    var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
    Console.WriteLine($"| run | µs per training step (batch 32, Adam) | alloc/step |");
    Console.WriteLine("|---|---|---|");
    Console.WriteLine(Invariant($"| Kiln ({net.DeviceName}) | {clock.Elapsed.TotalMicroseconds / steps:0.00} | {allocated / (double)steps:0} B |"));
    if (runPeer && Peer.RunPyTorch($"iris --steps 3000") is { } result)
    {
        Console.WriteLine($"| PyTorch {result["torch"]} ({result["threads"]} threads) | {result["us_per_step"]} | |");
    }
    return 0;
}

static int IrisFit(int epochs, Device device)
{
    var (train, test) = Datasets.Iris().Split(0.25, seed: 1);
    using var net = new IrisNet(seed: 1, device);
    var optimizer = new Adam();
    var quiet = new FitOptions { Verbose = false };
    Measure.Warm(() => net.Fit(train.Repeat().Shuffle(1000, 1).Batch(32), 1, stepsPerEpoch: 150, validation: test.Batch(32), optimizer: optimizer, options: quiet));
    // The training thread's allocations: the whole Fit (per-epoch bookkeeping and validation included), per step.
    var before = GC.GetAllocatedBytesForCurrentThread();
    var history = net.Fit(train.Repeat().Shuffle(1000, 1).Batch(32), epochs, stepsPerEpoch: 150, validation: test.Batch(32), optimizer: optimizer, options: quiet);
    var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
    // The progress line's figure: the epoch's time (validation included) over its steps.
    var perStep = history.Epochs.Select(e => e.Duration.TotalMicroseconds / e.Steps).Order().ToList();
    Console.WriteLine($"| run | µs/step through Fit, median of {epochs} epochs (min–max) | alloc/step (whole Fit) |");
    Console.WriteLine("|---|---|---|");
    Console.WriteLine(Invariant($"| Kiln ({net.DeviceName}) | {perStep[perStep.Count / 2]:0.0} ({perStep[0]:0.0}–{perStep[^1]:0.0}) | {allocated / (150.0 * epochs):0} B |"));
    return 0;
}

static string ExtractEmbedded()
{
    var directory = Directory.CreateTempSubdirectory("kiln-mnist-").FullName;
    foreach (var name in new[] { "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz" })
    {
        using var stream = typeof(EmbeddedDatasets).Assembly.GetManifestResourceStream("Kiln.Datasets.mnist." + name)!;
        using var file = File.Create(Path.Combine(directory, name));
        stream.CopyTo(file);
    }
    return directory;
}

static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

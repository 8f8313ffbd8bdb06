using System.Diagnostics;
using System.Globalization;
using GpuCheck;
using Kiln;
using Kiln.Runtime.Cuda;

// The GPU check: environment, every kernel against its CPU twin, training on Device.Cuda, timings. Run it through
// bench/gpu-check.sh --run. Exit codes: 0 every check passed; 1 a check failed; 2 no CUDA device; 3 no NVRTC;
// 64 bad arguments.
const int NoDevice = 2, NoNvrtc = 3, Usage = 64;

string? peerFile = null;
for (var i = 0; i < args.Length; i++)
{
    if (args[i] == "--peer" && i + 1 < args.Length)
    {
        peerFile = args[++i];
    }
    else
    {
        Console.Error.WriteLine($"Unknown argument '{args[i]}'. Usage: GpuCheck [--peer FILE], FILE holding bench/pytorch_peer.py's output lines.");
        return Usage;
    }
}

Console.WriteLine("# Kiln GPU check");
Console.WriteLine();
var hasNvrtc = Nvrtc.IsAvailable(out var nvrtcReason);
Console.WriteLine(hasNvrtc
    ? $"NVRTC {Nvrtc.Version} from {Nvrtc.LibraryPath} (architectures: {string.Join(' ', Nvrtc.SupportedArchs)})"
    : $"NVRTC: not available ({nvrtcReason})");
if (!CudaDevice.IsAvailable(out var deviceReason))
{
    Console.Error.WriteLine($"no CUDA device: {deviceReason}");
    return NoDevice;
}
var card = CudaDevice.Get(0);
var driver = CudaDevice.DriverVersion;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Card: {card}; {CudaDevice.Count} device(s); driver supports CUDA {driver / 1000}.{driver % 1000 / 10}"));
if (!hasNvrtc)
{
    Console.Error.WriteLine($"no NVRTC: {nvrtcReason}");
    return NoNvrtc;
}
Console.WriteLine($"Kernels compile for {CudaArch.Select(card)}; module cache {ModuleCache.Shared.Directory ?? "in memory only"}");

var report = new Report();
var peer = PeerResults.Read(peerFile);
Section("(b) Every CUDA kernel against Kiln.Runtime.Cpu", () =>
{
    using var runner = new KernelRunner(0, "gpucheck.cu", KernelChecks.NameExpressions());
    new KernelChecks(runner, report).RunAll();
});
var mnist = Datasets.Mnist();
var (irisTrain, irisTest) = Datasets.Iris().Split(testFraction: 0.25, seed: 1);
Section("(c) Iris on Device.Cuda", () => TrainingChecks.Iris(report));
Section("(c) MNIST CNN on Device.Cuda", () => TrainingChecks.Mnist(report, mnist));
Section("(c) Modern CNN on Device.Cuda", () => TrainingChecks.Modern(report, mnist));
Section("(c) MNIST CNN on Device.Cuda from several threads", () => ConcurrencyChecks.Predict(report, mnist));
Section("(c) Iris, GPU beside CPU", () => TrainingChecks.Parity(report, "Iris", d => new IrisNet(7, d),
    irisTrain.Repeat().Shuffle(1000, 7).Batch(32), TrainingChecks.Features(irisTest, 38), steps: 5));
// Batch 128, the training batch. The CPU runs conv2d_1 as Winograd, which now gives exactly the bias on all-zero
// windows, as the GPU's direct convolution does (run 2 in docs/GPU.md failed on that residue; batch 15 then avoided it).
Section("(c) MNIST CNN, GPU beside CPU", () => TrainingChecks.Parity(report, "MNIST CNN", d => new MnistCnn(7, d),
    mnist.Train.Batch(128), TrainingChecks.Features(mnist.Test, 256), steps: 5));
Section("(c) Modern CNN, GPU beside CPU", () => TrainingChecks.Parity(report, "Modern CNN", d => new ModernCnn(7, d),
    mnist.Train.Batch(128), TrainingChecks.Features(mnist.Test, 256), steps: 5));
Section("(d) MNIST epoch timing", () => Timing.Mnist(report, mnist, peer));
Section("(d) Iris step timing", () => Timing.Iris(report, peer));
Console.WriteLine();
Console.WriteLine($"Card: {card.Name}; NVRTC {Nvrtc.Version}; CPU: {Environment.ProcessorCount} logical cores");
report.PrintSummary();
return report.Failed ? 1 : 0;

// A section that throws is a failure; the sections after it still run, so one bad kernel does not hide the rest.
void Section(string title, Action body)
{
    Console.WriteLine();
    Console.WriteLine("## " + title);
    var clock = Stopwatch.StartNew();
    try
    {
        body();
    }
    catch (Exception e)
    {
        report.Crashed(title, e);
    }
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  ({clock.Elapsed.TotalSeconds:0.0} s)"));
}

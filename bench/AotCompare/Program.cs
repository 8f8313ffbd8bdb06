// The app that bench/aot-compare.sh publishes twice (JIT and NativeAOT) from the packed Kiln packages: it trains the
// workshop CNN for a fixed number of steps and prints the time per step and hashes of the weights and predictions.
// It lives outside every project of the repository: the script copies it into a fresh folder beside a local feed.
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using System.Security.Cryptography;
using Kiln;
using Mnist;

var steps = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 20;
var mnist = Datasets.Mnist();
var batches = mnist.Train.Batch(128, dropRemainder: true).Take(steps).ToList();
using var net = new MnistCnn(seed: 1);
var adam = new Adam();
var milliseconds = new List<double>();
foreach (var batch in batches)
{
    var start = Stopwatch.GetTimestamp();
    net.TrainOnBatch(batch, adam);
    milliseconds.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
}

var weightsFile = Path.Combine(Path.GetTempPath(), $"kiln-aot-compare-{Environment.ProcessId}.safetensors");
net.Save(weightsFile);
var weights = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(weightsFile)))[..16];
File.Delete(weightsFile);

var probabilities = new List<float>();
foreach (var example in mnist.Test.Take(500))
{
    probabilities.AddRange(net.Predict(example.Features));
}
var predictions = Convert.ToHexStringLower(SHA256.HashData(MemoryMarshal.AsBytes(CollectionsMarshal.AsSpan(probabilities))))[..16];
var accuracy = net.Evaluate(mnist.Test.Batch(500)).Accuracy;

// The first steps pay for compilation (the JIT's tiers) and first-touch allocation: the second half is the steady speed.
var steady = milliseconds.Skip(steps / 2).Order().ToList();
Console.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
    $"result avx2={Avx2.IsSupported} fma={Fma.IsSupported} avx512={Avx512F.IsSupported} steps={steps} first_ms={milliseconds[0]:0.0} median_ms={steady[steady.Count / 2]:0.0} weights={weights} predictions={predictions} accuracy={accuracy:0.0000}"));

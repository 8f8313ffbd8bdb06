using BenchmarkDotNet.Attributes;

namespace Kiln.Benchmarks;

/// <summary>Whole steps through the public API: MNIST CNN training and inference, Iris training (Adam, CPU).</summary>
public class NetworkBenchmarks
{
    // 2 × multiply-adds of one MNIST training image (see bench/Harness) and of one inference.
    private const double MnistTrainFlops = 2.0 * (2 * 784 * 16 * 25 + 3 * 196 * 32 * 400 + 3 * 1568 * 128 + 3 * 128 * 10);
    private const double MnistInferFlops = 2.0 * (784 * 16 * 25 + 196 * 32 * 400 + 1568 * 128 + 128 * 10);

    private MnistCnn _mnist = null!;
    private IrisNet _iris = null!;
    private Batch _mnistBatch = null!;
    private Batch _irisBatch = null!;
    private Dataset<Batch> _irisEpoch = null!;
    private float[] _probe = [], _outputs = [], _one = [];
    private readonly Adam _mnistAdam = new(), _irisAdam = new();
    private readonly FitOptions _quiet = new() { Verbose = false };

    [GlobalSetup]
    public void Setup()
    {
        _mnist = new MnistCnn(seed: 1, Device.Cpu);
        _mnistBatch = Datasets.Mnist().Train.Batch(128, dropRemainder: true).First();
        _probe = _mnistBatch.Features.AsSpan(0, 128 * MnistCnn.InputSize).ToArray();
        _outputs = new float[128 * MnistCnn.OutputSize];
        _one = new float[MnistCnn.OutputSize];
        _mnist.TrainOnBatch(_mnistBatch, _mnistAdam);

        _iris = new IrisNet(seed: 1, Device.Cpu);
        var iris = Datasets.Iris().Cache();
        _irisBatch = iris.Batch(32).First();
        _irisEpoch = iris.Batch(1);
        _iris.TrainOnBatch(_irisBatch, _irisAdam);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _mnist.Dispose();
        _iris.Dispose();
    }

    [Benchmark, Flops(128 * MnistTrainFlops)]
    public BatchResult MnistTrainStep128() => _mnist.TrainOnBatch(_mnistBatch, _mnistAdam);

    [Benchmark, Flops(128 * MnistInferFlops)]
    public void MnistInfer128() => _mnist.Predict(_probe, _outputs);

    [Benchmark, Flops(MnistInferFlops)]
    public void MnistInfer1() => _mnist.Predict(_probe.AsSpan(0, MnistCnn.InputSize), _one);

    [Benchmark]
    public BatchResult IrisTrainStep32() => _iris.TrainOnBatch(_irisBatch, _irisAdam);

    /// <summary>Keras' Iris epoch: Fit over the 150 examples one at a time, 150 steps.</summary>
    [Benchmark]
    public History IrisEpoch150Steps() => _iris.Fit(_irisEpoch, optimizer: _irisAdam, options: _quiet);
}

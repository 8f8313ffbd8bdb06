using Samples;
using Samples.Odd;

namespace Kiln.Runtime.Cuda.Tests;

/// <summary>Whole networks on Device.Cuda. Skipped without a CUDA device (CI included); bench/GpuCheck runs the same on a GPU machine.</summary>
public sealed class EndToEndTests
{
    [CudaFact]
    public void Iris_trains_on_the_gpu_to_the_cpu_target()
    {
        var (train, test) = Datasets.Iris().Split(testFraction: 0.25, seed: 1);
        using var net = new IrisNet(1, Device.Cuda);
        net.Fit(train.Repeat().Shuffle(1000, 1).Batch(32), 10, stepsPerEpoch: 150, optimizer: new Adam(), options: new FitOptions { Verbose = false });
        var result = net.Evaluate(test.Batch(32));
        Assert.True(result.Accuracy >= 0.9, $"test accuracy {result.Accuracy} on {net.DeviceName}");
    }

    public static TheoryData<string> Nets() => ["Iris", "MnistCnn", "StridedValid", "OddPooling"];

    /// <summary>Same seed ⇒ same parameters on both devices; inference outputs then agree within 1e-5 + 1e-3·|cpu|.</summary>
    [CudaTheory]
    [MemberData(nameof(Nets))]
    public void Gpu_and_cpu_forward_outputs_agree(string name)
    {
        Func<Device, Network> create = name switch
        {
            "Iris" => d => new IrisNet(3, d),
            "MnistCnn" => d => new MnistCnn(3, d),
            "StridedValid" => d => new StridedValidNet(3, d),
            _ => d => new OddPoolingNet(3, d),
        };
        using var cpu = create(Device.Cpu);
        using var gpu = create(Device.Cuda);
        const int count = 37;
        var features = RandomData.Uniform(count * cpu.Info.InputSize, 5);
        var (expected, actual) = (new float[count * cpu.Info.OutputSize], new float[count * cpu.Info.OutputSize]);
        cpu.Predict(features, expected);
        gpu.Predict(features, actual);
        var comparison = Comparison.Of($"{name} outputs", actual, expected, new Tolerance(1e-5, 1e-3));
        Assert.True(comparison.Passed, comparison.ToString());
    }
}

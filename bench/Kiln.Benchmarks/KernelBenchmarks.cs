using BenchmarkDotNet.Attributes;
using Kiln.Runtime.Cpu;

namespace Kiln.Benchmarks;

/// <summary>The kernels of one MNIST CNN training step at batch 128, with the shapes the generated code passes.</summary>
public class KernelBenchmarks
{
    private const int Batch = 128;
    private static readonly ConvGeometry s_conv1 = new(28, 28, 1, 28, 28, 16, 5, 1, 2, 2);
    private static readonly ConvGeometry s_conv2 = new(14, 14, 16, 14, 14, 32, 5, 1, 2, 2);
    private static readonly PoolGeometry s_pool1 = new(28, 28, 16, 14, 14, 2, 2, 0, 0);
    private static readonly PoolGeometry s_pool2 = new(14, 14, 32, 7, 7, 2, 2, 0, 0);

    private float[] _x = [], _w1 = [], _b1 = [], _y1 = [], _dy1 = [], _dw1 = [], _db1 = [];
    private float[] _p1 = [], _w2 = [], _b2 = [], _y2 = [], _dy2 = [], _dp1 = [], _dw2 = [], _db2 = [];
    private float[] _flat = [], _w3 = [], _b3 = [], _y3 = [], _dy3 = [], _dflat = [], _dw3 = [], _db3 = [];
    private float[] _scratch = [];
    private int[] _argmax = [];

    // The sparse backward path: a real forward pass gives the pools' argmax and the ReLU zeros.
    private float[] _pooled1 = [], _pooled2 = [], _dpooled1 = [], _dpooled2 = [];
    private int[] _argmax1 = [], _argmax2 = [];
    private PooledGradient _dz1 = null!, _dz2 = null!;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        float[] Random(int n) => Enumerable.Range(0, n).Select(_ => random.NextSingle() * 2 - 1).ToArray();
        (_x, _w1, _b1, _y1, _dy1, _dw1, _db1) = (Random(Batch * 784), Random(400), Random(16), new float[Batch * 12544], Random(Batch * 12544), new float[400], new float[16]);
        (_p1, _w2, _b2, _y2, _dy2, _dp1, _dw2, _db2) = (Random(Batch * 3136), Random(12800), Random(32), new float[Batch * 6272], Random(Batch * 6272), new float[Batch * 3136], new float[12800], new float[32]);
        (_flat, _w3, _b3, _y3, _dy3, _dflat, _dw3, _db3) = (Random(Batch * 1568), Random(1568 * 128), Random(128), new float[Batch * 128], Random(Batch * 128), new float[Batch * 1568], new float[1568 * 128], new float[128]);
        _scratch = new float[Math.Max(Conv2D.ScratchSize(Batch, s_conv1, s_pool1), Conv2D.ScratchSize(Batch, s_conv2, s_pool2))];
        _argmax = new int[Batch * 3136];

        (_pooled1, _argmax1, _dpooled1) = (new float[Batch * 3136], new int[Batch * 3136], Random(Batch * 3136));
        (_pooled2, _argmax2, _dpooled2) = (new float[Batch * 1568], new int[Batch * 1568], Random(Batch * 1568));
        Conv2D.Forward(_x, _w1, _b1, _y1, Batch, s_conv1, Epilogue.Relu, _scratch);
        MaxPool2D.Forward(_y1, _pooled1, _argmax1, Batch, s_pool1);
        Conv2D.Forward(_pooled1, _w2, _b2, _y2, Batch, s_conv2, Epilogue.Relu, _scratch);
        MaxPool2D.Forward(_y2, _pooled2, _argmax2, Batch, s_pool2);
        (_dz1, _dz2) = (new PooledGradient(Batch, s_pool1), new PooledGradient(Batch, s_pool2));
        MaxPool2D.BackwardToConvolution(_dpooled1, _pooled1, _argmax1, Epilogue.Relu, _dz1, Batch, s_pool1);
        MaxPool2D.BackwardToConvolution(_dpooled2, _pooled2, _argmax2, Epilogue.Relu, _dz2, Batch, s_pool2);
    }

    [Benchmark, Flops(2.0 * Batch * 784 * 16 * 25)]
    public void Conv1Forward() => Conv2D.Forward(_x, _w1, _b1, _y1, Batch, s_conv1, Epilogue.Relu, _scratch);

    [Benchmark, Flops(2.0 * Batch * 784 * 16 * 25)]
    public void Conv1BackwardWeights() => Conv2D.BackwardWeights(_x, _dy1, _dw1, _db1, Batch, s_conv1, _scratch);

    [Benchmark]
    public void Pool1Forward() => MaxPool2D.Forward(_y1, _p1, _argmax, Batch, s_pool1);

    [Benchmark, Flops(2.0 * Batch * 196 * 32 * 400)]
    public void Conv2Forward() => Conv2D.Forward(_p1, _w2, _b2, _y2, Batch, s_conv2, Epilogue.Relu, _scratch);

    [Benchmark, Flops(2.0 * Batch * 196 * 32 * 400)]
    public void Conv2BackwardData() => Conv2D.BackwardData(_dy2, _w2, _dp1, Batch, s_conv2, _scratch);

    [Benchmark, Flops(2.0 * Batch * 196 * 32 * 400)]
    public void Conv2BackwardWeights() => Conv2D.BackwardWeights(_p1, _dy2, _dw2, _db2, Batch, s_conv2, _scratch);

    [Benchmark]
    public void Pool2BackwardToConv2() => MaxPool2D.BackwardToConvolution(_dpooled2, _pooled2, _argmax2, Epilogue.Relu, _dz2, Batch, s_pool2);

    [Benchmark]
    public void Conv2SparseBackwardData() => Conv2D.BackwardData(_dz2, _w2, _dp1, Batch, s_conv2, _scratch);

    // What the generated code runs for conv2's data gradient instead: Winograd F(4×4, 5×5) on the gradient the pool sends down.
    [Benchmark, Flops(2.0 * Batch * 196 * 32 * 400)]
    public void Conv2BackwardDataThroughPool() => Conv2D.BackwardDataThroughPool(_dpooled2, _pooled2, _argmax2, Epilogue.Relu, _w2, _dp1, Batch, s_conv2, s_pool2, _scratch);

    [Benchmark]
    public void Conv2SparseBackwardWeights() => Conv2D.BackwardWeights(_pooled1, _dz2, _dw2, _db2, Batch, s_conv2, _scratch);

    [Benchmark]
    public void Pool1BackwardToConv1() => MaxPool2D.BackwardToConvolution(_dpooled1, _pooled1, _argmax1, Epilogue.Relu, _dz1, Batch, s_pool1);

    [Benchmark]
    public void Conv1SparseBackwardWeights() => Conv2D.BackwardWeights(_x, _dz1, _dw1, _db1, Batch, s_conv1, _scratch);

    // What the generated code runs for conv1 instead of the two above: the lists are filled in cache, a sample at a time.
    [Benchmark]
    public void Conv1BackwardWeightsThroughPool() => Conv2D.BackwardWeightsThroughPool(_x, _dpooled1, _pooled1, _argmax1, Epilogue.Relu, _dw1, _db1, Batch, s_conv1, s_pool1, _scratch);

    [Benchmark, Flops(2.0 * Batch * 1568 * 128)]
    public void DenseForward() => Dense.Forward(_flat, _w3, _b3, _y3, Batch, 1568, 128, Epilogue.Relu);

    // One image: the few-row path, each core streaming its half of the weights.
    [Benchmark, Flops(2.0 * 1568 * 128)]
    public void DenseForward1() => Dense.Forward(_flat.AsSpan(0, 1568), _w3, _b3, _y3.AsSpan(0, 128), 1, 1568, 128, Epilogue.Relu);

    [Benchmark, Flops(2.0 * Batch * 1568 * 128)]
    public void DenseBackwardData() => Dense.BackwardData(_dy3, _w3, _dflat, Batch, 1568, 128);

    [Benchmark, Flops(2.0 * Batch * 1568 * 128)]
    public void DenseBackwardWeights() => Dense.BackwardWeights(_flat, _dy3, _dw3, _db3, Batch, 1568, 128);

    [Benchmark, Flops(2.0 * 512 * 512 * 512)]
    public void Gemm512() => Gemm.Multiply(512, 512, 512, _dy1.AsSpan(0, 512 * 512), 512, _dy1.AsSpan(512 * 512, 512 * 512), 512, _y1.AsSpan(0, 512 * 512), 512);
}

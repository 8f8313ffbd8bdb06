using BenchmarkDotNet.Attributes;
using Kiln.Runtime.Cpu;

namespace Kiln.Benchmarks;

/// <summary>
/// A VGG-style block's 3×3 same convolutions at batch 128 (32 → 32 channels on 28×28, 64 → 64 on 14×14, each followed
/// by a 2×2 pool), through the public kernels: what the dispatcher runs (Winograd F(6×6, 3×3) forward and data gradient,
/// the implicit GEMM for the weight gradient). GFLOP/s count the direct convolution's multiply-adds (the same number for both shapes).
/// </summary>
public class Conv3x3Benchmarks
{
    private const int Batch = 128;

    [Params("28x28x32→32", "14x14x64→64")]
    public string Shape { get; set; } = "";

    private ConvGeometry _g;
    private PoolGeometry _pool;
    private float[] _x = [], _w = [], _b = [], _y = [], _dz = [], _dx = [], _dw = [], _db = [], _pooled = [], _dpooled = [], _scratch = [];
    private int[] _argmax = [];

    // Both shapes: 784·32·288 = 196·64·576 multiply-adds per image.
    private const double Flops = 2.0 * Batch * 784 * 32 * 288;

    [GlobalSetup]
    public void Setup()
    {
        var (size, channels) = Shape == "28x28x32→32" ? (28, 32) : (14, 64);
        _g = new ConvGeometry(size, size, channels, size, size, channels, 3, 1, 1, 1);
        _pool = new PoolGeometry(size, size, channels, size / 2, size / 2, 2, 2, 0, 0);
        var random = new Random(1);
        float[] Random(int n) => Enumerable.Range(0, n).Select(_ => random.NextSingle() * 2 - 1).ToArray();
        (_x, _w, _b, _y, _dz, _dx) = (Random(Batch * _g.InSize), Random(_g.PatchSize * _g.OutC), Random(_g.OutC), new float[Batch * _g.OutSize], Random(Batch * _g.OutSize), new float[Batch * _g.InSize]);
        (_dw, _db, _pooled, _argmax, _dpooled) = (new float[_w.Length], new float[_g.OutC], new float[Batch * _pool.OutSize], new int[Batch * _pool.OutSize], Random(Batch * _pool.OutSize));
        _scratch = new float[Conv2D.ScratchSize(Batch, _g, _pool)];
        Conv2D.ForwardPooled(_x, _w, _b, _pooled, _argmax, Batch, _g, Epilogue.Relu, _pool, _scratch);
    }

    [Benchmark, Flops(Flops)]
    public void Forward() => Conv2D.Forward(_x, _w, _b, _y, Batch, _g, Epilogue.Relu, _scratch);

    [Benchmark, Flops(Flops)]
    public void ForwardPooled() => Conv2D.ForwardPooled(_x, _w, _b, _pooled, _argmax, Batch, _g, Epilogue.Relu, _pool, _scratch);

    [Benchmark, Flops(Flops)]
    public void BackwardData() => Conv2D.BackwardData(_dz, _w, _dx, Batch, _g, _scratch);

    [Benchmark, Flops(Flops)]
    public void BackwardDataThroughPool() => Conv2D.BackwardDataThroughPool(_dpooled, _pooled, _argmax, Epilogue.Relu, _w, _dx, Batch, _g, _pool, _scratch);

    [Benchmark, Flops(Flops)]
    public void BackwardWeights() => Conv2D.BackwardWeights(_x, _dz, _dw, _db, Batch, _g, _scratch);
}

namespace Kiln.Runtime.Cpu.Tests;

/// <summary>The fused convolution + max pool forward must give exactly the bits of the two kernels run one after the other.</summary>
[Collection(nameof(ThreadingTests))]
public class Conv2DPooledTests
{
    public static TheoryData<string, int, Epilogue> Cases() => new()
    {
        { "mnist conv1 + pool 2", 3, Epilogue.Relu },
        { "mnist conv2 + pool 2", 129, Epilogue.Relu },
        { "mnist conv2 + pool 2", 1, Epilogue.Relu },
        { "9x11x8→16 k5 + odd same pool 2", 17, Epilogue.Linear },
        { "9x11x8→16 k5 + odd valid pool 2", 16, Epilogue.Relu },
        { "9x11x8→16 k5 + odd same pool 2, tanh", 16, Epilogue.Tanh },
        { "13x11x3→5 k5 + odd same pool 2", 3, Epilogue.Tanh },
        { "11x7x11→6 k3 s2 + valid pool 2", 2, Epilogue.Sigmoid },
        { "9x9x19→21 k3 + same pool 3", 2, Epilogue.Linear },
        { "mnist conv2 + pool 2", 3, Epilogue.LeakyRelu },
        { "mnist conv2 + pool 2", 2, Epilogue.Elu },
        { "9x11x8→16 k5 + odd same pool 2", 3, Epilogue.Softplus },
        { "13x11x3→5 k5 + odd same pool 2", 3, Epilogue.Gelu },
        { "11x7x11→6 k3 s2 + valid pool 2", 2, Epilogue.Swish },
        { "15x13x16→24 k3 + odd same pool 2", 3, Epilogue.Relu },
        { "15x13x16→24 k3 + odd valid pool 2", 1, Epilogue.Relu },
        { "16x16x32→16 k3 + pool 2", 5, Epilogue.Softplus },
    };

    private static (ConvGeometry Conv, PoolGeometry Pool) Geometry(string name) => name switch
    {
        "mnist conv1 + pool 2" => (Geometries.ConvSame(28, 28, 1, 16, 5, 1), Geometries.PoolSame(28, 28, 16, 2, 2)),
        "mnist conv2 + pool 2" => (Geometries.ConvSame(14, 14, 16, 32, 5, 1), Geometries.PoolSame(14, 14, 32, 2, 2)),
        "9x11x8→16 k5 + odd same pool 2" or "9x11x8→16 k5 + odd same pool 2, tanh" => (Geometries.ConvSame(9, 11, 8, 16, 5, 1), Geometries.PoolSame(9, 11, 16, 2, 2)),
        "9x11x8→16 k5 + odd valid pool 2" => (Geometries.ConvSame(9, 11, 8, 16, 5, 1), Geometries.PoolValid(9, 11, 16, 2, 2)),
        "13x11x3→5 k5 + odd same pool 2" => (Geometries.ConvSame(13, 11, 3, 5, 5, 1), Geometries.PoolSame(13, 11, 5, 2, 2)),
        "11x7x11→6 k3 s2 + valid pool 2" => (Geometries.ConvSame(11, 7, 11, 6, 3, 2), Geometries.PoolValid(6, 4, 6, 2, 2)),
        // F(6×6, 3×3): nine windows to a tile, the last tiles' cut by the output and by valid pooling of an odd size.
        "15x13x16→24 k3 + odd same pool 2" => (Geometries.ConvSame(15, 13, 16, 24, 3, 1), Geometries.PoolSame(15, 13, 24, 2, 2)),
        "15x13x16→24 k3 + odd valid pool 2" => (Geometries.ConvSame(15, 13, 16, 24, 3, 1), Geometries.PoolValid(15, 13, 24, 2, 2)),
        "16x16x32→16 k3 + pool 2" => (Geometries.ConvSame(16, 16, 32, 16, 3, 1), Geometries.PoolSame(16, 16, 16, 2, 2)),
        "9x9x19→21 k3 + same pool 3" => (Geometries.ConvSame(9, 9, 19, 21, 3, 1), Geometries.PoolSame(9, 9, 21, 3, 3)),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void ForwardPooled_EqualsForwardThenPool_Bitwise(string name, int batch, Epilogue act)
    {
        var (g, pool) = Geometry(name);
        var x = TestData.Random(batch * g.InSize, seed: 31);
        var w = TestData.Random(g.PatchSize * g.OutC, seed: 32, scale: 0.3f);
        var bias = TestData.Random(g.OutC, seed: 33, scale: 0.1f);
        var scratch = TestData.Poisoned(Conv2D.ScratchSize(batch, g, pool));

        var conv = TestData.Poisoned(batch * g.OutSize);
        Conv2D.Forward(x, w, bias, conv, batch, g, act, scratch);
        var expected = TestData.Poisoned(batch * pool.OutSize);
        var expectedArgmax = new int[expected.Length];
        MaxPool2D.Forward(conv, expected, expectedArgmax, batch, pool);

        foreach (var serial in new[] { true, false })
        {
            Workers.Serial = serial;
            try
            {
                var y = TestData.Poisoned(expected.Length);
                var argmax = Enumerable.Repeat(int.MinValue, expected.Length).ToArray();
                Conv2D.ForwardPooled(x, w, bias, y, argmax, batch, g, act, pool, scratch);
                TestData.BitwiseEqual(expected, y, $"{name} y (serial {serial})");
                Assert.Equal(expectedArgmax, argmax);

                // Inference passes no argmax: the same outputs.
                var inferred = TestData.Poisoned(expected.Length);
                Conv2D.ForwardPooled(x, w, bias, inferred, default, batch, g, act, pool, scratch);
                TestData.BitwiseEqual(expected, inferred, $"{name} y without argmax (serial {serial})");
            }
            finally
            {
                Workers.Serial = false;
            }
        }
    }

    // The implicit GEMM's fused pool on a geometry that otherwise runs as Winograd.
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void ImplicitGemmPooled_EqualsForwardThenPool_Bitwise(int batch)
    {
        Conv2D.NoWinograd = true;
        try
        {
            ForwardPooled_EqualsForwardThenPool_Bitwise("mnist conv2 + pool 2", batch, Epilogue.Relu);
        }
        finally
        {
            Conv2D.NoWinograd = false;
        }
    }

    [Fact]
    public void OverlappingOrMismatchedPool_IsRejected()
    {
        var (g, _) = Geometry("mnist conv2 + pool 2");
        var e = Assert.Throws<ArgumentException>(() => Conv2D.ScratchSize(1, g, Geometries.PoolValid(14, 14, 32, 3, 2)));
        Assert.Equal("pool", e.ParamName);
        Assert.Contains("non-overlapping", e.Message);
        e = Assert.Throws<ArgumentException>(() => Conv2D.ScratchSize(1, g, Geometries.PoolSame(14, 14, 16, 2, 2)));
        Assert.Contains("reads 14×14×16 but the convolution writes 14×14×32", e.Message);
    }
}

namespace Kiln.Runtime.Cpu.Tests;

[CollectionDefinition(nameof(ThreadingTests), DisableParallelization = true)]
public class ThreadingCollection;

/// <summary>
/// The worker pool partitions only independent outputs, so a multi-threaded call must give exactly the single-threaded
/// bits, every time. Run alone so that the pool is free and the parallel path is the one exercised.
/// </summary>
[Collection(nameof(ThreadingTests))]
public class ThreadingTests
{
    private const int Repeats = 3;

    [Fact]
    public void LargeProducts_AreSplitAcrossThreads()
    {
        Assert.True(Workers.Count == 1 || Workers.PartsFor(1L << 30, 1 << 20) > 1, "a large product must use more than one thread on a multi-core machine");
    }

    [Theory]
    [InlineData(257, 131, 300)]
    [InlineData(7, 2000, 300)]
    [InlineData(1568, 128, 129)]
    public void Gemm_MultiThreaded_EqualsSingleThreaded_EveryRun(int m, int n, int k)
    {
        var a = TestData.Random(m * k, seed: 1);
        var b = TestData.Random(k * n, seed: 2);
        AssertSameBitsAsSerial(m * n, c => Gemm.Multiply(m, n, k, a, k, b, n, c, n), "NN");
        AssertSameBitsAsSerial(m * n, c => Gemm.MultiplyTransposeA(m, n, k, a, m, b, n, c, n), "TN");
        AssertSameBitsAsSerial(m * n, c => Gemm.MultiplyTransposeB(m, n, k, a, k, b, k, c, n), "NT");
    }

    [Fact]
    public void Dense_MultiThreaded_EqualsSingleThreaded_EveryRun()
    {
        const int batch = 129, inF = 1568, outF = 128;
        var x = TestData.Random(batch * inF, seed: 3);
        var w = TestData.Random(inF * outF, seed: 4);
        var bias = TestData.Random(outF, seed: 5);
        var dz = TestData.Random(batch * outF, seed: 6);
        AssertSameBitsAsSerial(batch * outF, y => Dense.Forward(x, w, bias, y, batch, inF, outF, Epilogue.Relu), "dense y");
        AssertSameBitsAsSerial(batch * inF, dx => Dense.BackwardData(dz, w, dx, batch, inF, outF), "dense dx");
        AssertSameBitsAsSerial(inF * outF, dw => Dense.BackwardWeights(x, dz, dw, new float[outF], batch, inF, outF), "dense dw");
    }

    [Theory]
    [InlineData(28, 1, 16, 1)]
    [InlineData(28, 1, 16, 129)]
    [InlineData(14, 16, 32, 1)]
    [InlineData(14, 16, 32, 129)]
    [InlineData(15, 3, 11, 3)]
    public void Conv2D_MultiThreaded_EqualsSingleThreaded_EveryRun(int size, int inC, int outC, int batch)
    {
        var g = Geometries.ConvSame(size, size, inC, outC, 5, 1);
        var x = TestData.Random(batch * g.InSize, seed: 7);
        var w = TestData.Random(g.PatchSize * g.OutC, seed: 8);
        var bias = TestData.Random(g.OutC, seed: 9);
        var dz = TestData.Random(batch * g.OutSize, seed: 10);
        var scratch = new float[Conv2D.ScratchSize(batch, g)];
        AssertSameBitsAsSerial(batch * g.OutSize, y => Conv2D.Forward(x, w, bias, y, batch, g, Epilogue.Relu, scratch), "conv y");
        AssertSameBitsAsSerial(batch * g.InSize, dx => Conv2D.BackwardData(dz, w, dx, batch, g, scratch), "conv dx");
        AssertSameBitsAsSerial(w.Length, dw => Conv2D.BackwardWeights(x, dz, dw, new float[g.OutC], batch, g, scratch), "conv dw");
    }

    public static TheoryData<string> PoolCases() => ["28x28x16 p2", "14x14x32 p2", "same 15x15x8 p3 s2", "same 13x13x19 p2"];

    [Theory]
    [MemberData(nameof(PoolCases))]
    public void MaxPool2D_MultiThreaded_EqualsSingleThreaded_EveryRun(string name)
    {
        const int batch = 129;
        var g = name switch
        {
            "28x28x16 p2" => Geometries.PoolValid(28, 28, 16, 2, 2),
            "14x14x32 p2" => Geometries.PoolValid(14, 14, 32, 2, 2),
            "same 15x15x8 p3 s2" => Geometries.PoolSame(15, 15, 8, 3, 2),
            "same 13x13x19 p2" => Geometries.PoolSame(13, 13, 19, 2, 2),
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };
        var x = TestData.Random(batch * g.InSize, seed: 10);
        AssertSameBitsAsSerial(batch * g.OutSize, y => MaxPool2D.Forward(x, y, new int[y.Length], batch, g), "pool y");
        AssertSameBitsAsSerial(batch * g.OutSize, argmax =>
        {
            var indices = new int[argmax.Length];
            MaxPool2D.Forward(x, new float[argmax.Length], indices, batch, g);
            for (var i = 0; i < indices.Length; i++)
            {
                argmax[i] = indices[i];
            }
        }, "pool argmax");
        var (dy, forward) = (TestData.Random(batch * g.OutSize, seed: 11), new int[batch * g.OutSize]);
        MaxPool2D.Forward(x, new float[forward.Length], forward, batch, g);
        AssertSameBitsAsSerial(batch * g.InSize, dx => MaxPool2D.Backward(dy, forward, dx, batch, g), "pool dx");
    }

    [Theory]
    [InlineData(129, 7 * 7, 64)]
    [InlineData(129, 5 * 5, 19)]
    public void GlobalPool2D_MultiThreaded_EqualsSingleThreaded_EveryRun(int batch, int pixels, int channels)
    {
        var x = TestData.Random(batch * pixels * channels, seed: 12);
        var dy = TestData.Random(batch * channels, seed: 13);
        var argmax = new int[batch * channels];
        GlobalPool2D.MaxForward(x, new float[argmax.Length], argmax, batch, pixels, channels);
        AssertSameBitsAsSerial(batch * channels, y => GlobalPool2D.AverageForward(x, y, batch, pixels, channels), "average y");
        AssertSameBitsAsSerial(x.Length, dx => GlobalPool2D.AverageBackward(dy, dx, batch, pixels, channels), "average dx");
        AssertSameBitsAsSerial(batch * channels, y => GlobalPool2D.MaxForward(x, y, new int[y.Length], batch, pixels, channels), "max y");
        AssertSameBitsAsSerial(batch * channels, indices =>
        {
            var found = new int[indices.Length];
            GlobalPool2D.MaxForward(x, new float[found.Length], found, batch, pixels, channels);
            for (var i = 0; i < found.Length; i++)
            {
                indices[i] = found[i];
            }
        }, "max argmax");
        AssertSameBitsAsSerial(x.Length, dx => GlobalPool2D.MaxBackward(dy, argmax, dx, batch, pixels, channels), "max dx");
    }

    [Theory]
    [InlineData(Epilogue.Relu)]
    [InlineData(Epilogue.Sigmoid)]
    public void BatchNorm_MultiThreaded_EqualsSingleThreaded_EveryRun(Epilogue act)
    {
        // 2 000 rows: eight chunks; 37 channels: a scalar tail.
        const int rows = 2000, channels = 37;
        var x = TestData.Random(rows * channels, seed: 14, scale: 3f);
        var (gamma, beta) = (TestData.Random(channels, seed: 15), TestData.Random(channels, seed: 16));
        var dy = TestData.Random(x.Length, seed: 17);
        var (y, mean, invStd) = (new float[x.Length], new float[channels], new float[channels]);
        BatchNorm.ForwardTraining(x, gamma, beta, y, mean, invStd, new float[channels], new float[channels], rows, channels, 0.99f, 1e-3f, act, 0f);
        AssertSameBitsAsSerial(x.Length, output => BatchNorm.ForwardTraining(x, gamma, beta, output, new float[channels], new float[channels], new float[channels], new float[channels], rows, channels, 0.99f, 1e-3f, act, 0f), "bn y");
        AssertSameBitsAsSerial(2 * channels, statistics => BatchNorm.ForwardTraining(x, gamma, beta, new float[x.Length], statistics.AsSpan(0, channels), statistics.AsSpan(channels), new float[channels], new float[channels], rows, channels, 0.99f, 1e-3f, act, 0f), "bn mean, 1/σ");
        AssertSameBitsAsSerial(x.Length, dx => BatchNorm.Backward(x, y, dy, act, 0f, gamma, beta, mean, invStd, dx, new float[channels], new float[channels], rows, channels), "bn dx");
        AssertSameBitsAsSerial(2 * channels, gradients => BatchNorm.Backward(x, y, dy, act, 0f, gamma, beta, mean, invStd, default, gradients.AsSpan(0, channels), gradients.AsSpan(channels), rows, channels), "bn dγ, dβ");
    }

    [Fact]
    public void BatchNormPooled_MultiThreaded_EqualsSingleThreaded_EveryRun()
    {
        const int batch = 129;
        var g = Geometries.PoolSame(15, 15, 8, 3, 2);
        var x = TestData.Random(batch * g.InSize, seed: 18, scale: 3f);
        var (gamma, beta) = (TestData.Random(g.Channels, seed: 19), TestData.Random(g.Channels, seed: 20));
        float[] Statistics() => new float[g.Channels];
        AssertSameBitsAsSerial(batch * g.OutSize, y => BatchNorm.ForwardTrainingPooled(x, gamma, beta, y, new int[y.Length], Statistics(), Statistics(), Statistics(), Statistics(), batch, g, 0.99f, 1e-3f, Epilogue.Relu, 0f), "pooled y");
        AssertSameBitsAsSerial(batch * g.OutSize, argmax =>
        {
            var found = new int[argmax.Length];
            BatchNorm.ForwardTrainingPooled(x, gamma, beta, new float[found.Length], found, Statistics(), Statistics(), Statistics(), Statistics(), batch, g, 0.99f, 1e-3f, Epilogue.Relu, 0f);
            for (var i = 0; i < found.Length; i++)
            {
                argmax[i] = found[i];
            }
        }, "pooled argmax");
        var two = Geometries.PoolValid(15, 15, 8, 2, 2);
        var x2 = TestData.Random(batch * two.InSize, seed: 21, scale: 3f);
        var (mean, invStd, argmax) = (Statistics(), Statistics(), new int[batch * two.OutSize]);
        BatchNorm.ForwardTrainingPooled(x2, gamma, beta, new float[argmax.Length], argmax, mean, invStd, Statistics(), Statistics(), batch, two, 0.99f, 1e-3f, Epilogue.Relu, 0f);
        var poolDy = TestData.Random(argmax.Length, seed: 22);
        AssertSameBitsAsSerial(x2.Length, dx => BatchNorm.BackwardThroughPool(x2, poolDy, argmax, Epilogue.Relu, 0f, gamma, beta, mean, invStd, dx, Statistics(), Statistics(), batch, two), "through the pool dx");
        AssertSameBitsAsSerial(2 * g.Channels, gradients => BatchNorm.BackwardThroughPool(x2, poolDy, argmax, Epilogue.Relu, 0f, gamma, beta, mean, invStd, default, gradients.AsSpan(0, g.Channels), gradients.AsSpan(g.Channels), batch, two), "through the pool dγ, dβ");
    }

    [Theory]
    [InlineData(128 * 128)]
    [InlineData(100_003)]
    public void Dropout_MultiThreaded_EqualsSingleThreaded_EveryRun(int n)
    {
        var x = TestData.Random(n, seed: 13);
        AssertSameBitsAsSerial(n, y => Dropout.Forward(x, y, 0.4f, 7, 5), "dropout y");
        AssertSameBitsAsSerial(n, dx => Dropout.Backward(x, dx, 0.4f, 7, 5), "dropout dx");
        AssertSameBitsAsSerial(n, y =>
        {
            x.CopyTo(y);
            Dropout.Forward(y, y, 0.4f, 7, 5);
        }, "dropout in place");
    }

    [Theory]
    [InlineData(Epilogue.Relu, 100_003)]
    [InlineData(Epilogue.Relu, 128 * 28 * 28 * 16)]
    [InlineData(Epilogue.Sigmoid, 10_001)]
    [InlineData(Epilogue.Tanh, 10_001)]
    public void Activations_MultiThreaded_EqualsSingleThreaded_EveryRun(Epilogue act, int n)
    {
        var z = TestData.Random(n, seed: 14, scale: 3f);
        var dy = TestData.Random(n, seed: 15);
        AssertSameBitsAsSerial(n, y =>
        {
            z.CopyTo(y);
            Activations.Forward(y, act);
        }, $"{act} y");
        var y = (float[])z.Clone();
        Activations.Forward(y, act);
        AssertSameBitsAsSerial(n, d =>
        {
            dy.CopyTo(d);
            Activations.Backward(y, d, act);
        }, $"{act} dy");
    }

    [Fact]
    public void Adam_MultiThreaded_EqualsSingleThreaded_EveryRun()
    {
        const int n = 215_370;
        var p0 = TestData.Random(n, seed: 11);
        var g = TestData.Random(n, seed: 12);
        AssertSameBitsAsSerial(n, p =>
        {
            p0.CopyTo(p);
            var (m, v) = (new float[n], new float[n]);
            for (var t = 1; t <= 3; t++)
            {
                Adam.Step(p, g, m, v, 1e-3f, 0.9f, 0.999f, 1e-7f, t);
            }
        }, "adam p");
    }

    // Runs `kernel` once on this thread alone, then Repeats times with the pool, comparing every bit.
    private static void AssertSameBitsAsSerial(int length, Action<float[]> kernel, string what)
    {
        var serial = TestData.Poisoned(length);
        Workers.Serial = true;
        try
        {
            kernel(serial);
        }
        finally
        {
            Workers.Serial = false;
        }
        for (var run = 0; run < Repeats; run++)
        {
            var parallel = TestData.Poisoned(length);
            kernel(parallel);
            TestData.BitwiseEqual(serial, parallel, $"{what}, run {run + 1}");
        }
    }
}

using Kiln.Execution;

namespace Kiln.Tests.Optimizers;

/// <summary>
/// Every optimizer, with and without clipping, against Keras' formula in float64 over many steps, run exactly as the
/// CPU executor runs it (<see cref="CpuOptimizerState"/>: scalars, clipping, one pass over the trainable prefix).
/// </summary>
public class OptimizerTests
{
    private const int Steps = 200;

    // Three tensors of 7, 16 and 19 floats (vector lanes and tails), then a non-trainable one the optimizer must not touch.
    private static readonly NetworkInfo Info = new("opt", [1], 1, Loss.MeanSquaredError, "",
    [
        new ParameterInfo("a.kernel", [7], 0, fanIn: 1, fanOut: 7),
        new ParameterInfo("a.bias", [16], 7),
        new ParameterInfo("b.kernel", [19], 23, fanIn: 1, fanOut: 19),
        new ParameterInfo("bn.moving_mean", [5], 42, trainable: false),
    ]);

    private static readonly string[] Names =
    [
        "adam", "adamw", "sgd", "sgd-momentum", "sgd-nesterov", "rmsprop", "rmsprop-momentum", "rmsprop-centered",
        "rmsprop-both", "adagrad", "adam-clipnorm", "sgd-clipvalue", "rmsprop-globalclipnorm", "adamw-cosine",
        "sgd-exponential",
    ];

    public static TheoryData<string> Cases() => [.. Names];

    private static Optimizer Make(string name) => name switch
    {
        "adam" => new Adam(0.01f),
        "adamw" => new AdamW(0.01f, weightDecay: 0.05f),
        "sgd" => new Sgd(0.05f),
        "sgd-momentum" => new Sgd(0.05f, momentum: 0.9f),
        "sgd-nesterov" => new Sgd(0.05f, momentum: 0.9f, nesterov: true),
        "rmsprop" => new RmsProp(0.01f),
        "rmsprop-momentum" => new RmsProp(0.01f, momentum: 0.5f),
        "rmsprop-centered" => new RmsProp(0.001f, rho: 0.8f, centered: true),
        "rmsprop-both" => new RmsProp(0.001f, momentum: 0.3f, centered: true),
        "adagrad" => new Adagrad(0.1f),
        "adam-clipnorm" => new Adam(0.01f) { ClipNorm = 0.5f },
        "sgd-clipvalue" => new Sgd(0.05f, momentum: 0.5f) { ClipValue = 0.3f },
        "rmsprop-globalclipnorm" => new RmsProp(0.01f) { GlobalClipNorm = 1f },
        "adamw-cosine" => new AdamW(new CosineDecay(0.001, 150, alpha: 0.1, warmupTarget: 0.01, warmupSteps: 20)),
        "sgd-exponential" => new Sgd(new ExponentialDecay(0.1, 30, 0.5, staircase: true), momentum: 0.9f),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Follows_the_keras_formula_in_float64(string name)
    {
        var optimizer = Make(name);
        var n = Info.ParameterCount;
        var trainable = Info.TrainableParameterCount;
        var p = Random(n, 1, 1f);
        var frozen = p[trainable..];
        var reference = p[..trainable].Select(v => (double)v).ToArray();
        var referenceState = new KerasReference.State(trainable, optimizer.SlotInitialValue);
        var state = new CpuOptimizerState(optimizer, trainable);
        var tensors = Optimizer.TrainableTensors(Info).ToList();
        for (var step = 0; step < Steps; step++)
        {
            // Gradients that pull towards zero plus noise, large enough that the clipping cases clip.
            var g = new float[n];
            var noise = Random(n, 100 + step, 0.5f);
            for (var i = 0; i < n; i++)
            {
                g[i] = p[i] + noise[i];
            }
            var gd = g[..trainable].Select(v => (double)v).ToArray();
            KerasReference.Clip(optimizer, gd, tensors);
            KerasReference.Step(optimizer, reference, gd, referenceState, ReferenceRate(optimizer, step), step);
            state.Step(p.AsSpan(0, trainable), g.AsSpan(0, trainable), Info);
        }
        Assert.Equal(Steps, state.Iterations);
        Assert.Equal(frozen, p[trainable..]);
        for (var i = 0; i < trainable; i++)
        {
            Assert.True(Math.Abs(p[i] - reference[i]) <= 1e-5 * Math.Max(1, Math.Abs(reference[i])), $"{name}: p[{i}] = {p[i]:R}, float64 Keras gives {reference[i]:R}");
        }
        // The parameters moved: a test of an optimizer that does nothing would otherwise pass.
        Assert.True(reference.Select((v, i) => Math.Abs(v - Random(n, 1, 1f)[i])).Max() > 0.05, $"{name} barely moved");
    }

    /// <summary>Keras' schedules in float64, from the Python source (keras/src/optimizers/schedules).</summary>
    private static double ReferenceRate(Optimizer optimizer, long step) => optimizer.Schedule switch
    {
        null => optimizer.LearningRate,
        CosineDecay c => CosineRate(c, step),
        ExponentialDecay e => e.InitialLearningRate * Math.Pow(e.DecayRate, e.Staircase ? Math.Floor((double)step / e.DecaySteps) : (double)step / e.DecaySteps),
        _ => throw new NotSupportedException(),
    };

    private static double CosineRate(CosineDecay c, long step)
    {
        var target = c.WarmupTarget ?? c.InitialLearningRate;
        var s = Math.Min(step, c.DecaySteps + c.WarmupSteps);
        if (s < c.WarmupSteps)
        {
            return (target - c.InitialLearningRate) * s / c.WarmupSteps + c.InitialLearningRate;
        }
        var fraction = (double)(s - c.WarmupSteps) / c.DecaySteps;
        return target * ((1 - c.Alpha) * 0.5 * (1 + Math.Cos(Math.PI * fraction)) + c.Alpha);
    }

    [Fact]
    public void Adam_and_sgd_give_the_bits_of_the_kernels_the_executors_called_before()
    {
        // Before optimizers owned their update, the CPU executor called Runtime.Cpu.Adam.Step(p, g, m, v, lr, β1, β2, ε, t)
        // and Runtime.Cpu.Sgd.Step(p, g, velocity, lr, μ, nesterov) over the whole buffer; the descriptors must give those bits.
        foreach (var optimizer in new Optimizer[] { new Adam(0.003f, 0.8f, 0.99f, 1e-6f), new Sgd(0.02f), new Sgd(0.02f, 0.9f), new Sgd(0.02f, 0.9f, nesterov: true) })
        {
            const int n = 42;
            var p = Random(n, 5, 1f);
            var old = (float[])p.Clone();
            float[] m = new float[n], v = new float[n];
            var state = new CpuOptimizerState(optimizer, n);
            for (var t = 1; t <= 50; t++)
            {
                var g = Random(n, 200 + t, 1f);
                state.Step(p, (float[])g.Clone(), Info);
                if (optimizer is Adam a)
                {
                    Runtime.Cpu.Adam.Step(old, g, m, v, a.LearningRate, a.Beta1, a.Beta2, a.Epsilon, t);
                }
                else if (optimizer is Sgd s)
                {
                    Runtime.Cpu.Sgd.Step(old, g, s.Momentum > 0 ? m : [], s.LearningRate, s.Momentum, s.Nesterov);
                }
            }
            Assert.Equal(old.Select(BitConverter.SingleToInt32Bits), p.Select(BitConverter.SingleToInt32Bits));
        }
    }

    [Fact]
    public void Only_one_clipping_option_may_be_set()
    {
        var e = Assert.Throws<ArgumentException>(() => new Adam { ClipNorm = 1f, ClipValue = 0.5f });
        Assert.Contains("Only one of ClipNorm, ClipValue and GlobalClipNorm", e.Message, StringComparison.Ordinal);
        Assert.Equal("ClipValue", e.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd { GlobalClipNorm = 0f });
    }

    [Fact]
    public void A_scheduled_rate_cannot_be_set()
    {
        var adam = new Adam(new ExponentialDecay(0.01, 10, 0.5));
        Assert.Equal(0.01f, adam.LearningRate);
        Assert.Throws<InvalidOperationException>(() => adam.LearningRate = 0.1f);
        var fixedRate = new Adam(0.01f) { };
        fixedRate.LearningRate = 0.5f;
        Assert.Equal(0.5f, fixedRate.LearningRateAt(1000));
    }

    [Fact]
    public void Every_optimizer_kernel_is_in_the_cuda_library_list()
    {
        foreach (var name in Names)
        {
            Assert.Contains(Make(name).CudaKernel, Optimizer.CudaKernels);
        }
    }

    internal static float[] Random(int n, int seed, float scale)
    {
        var rng = new System.Random(seed);
        return [.. Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1) * scale)];
    }
}

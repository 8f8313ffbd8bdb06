namespace Kiln.Runtime.Cpu.Tests;

public class OptimizerTests
{
    private const float Tolerance = 1e-6f;

    [Fact]
    public void Adam_ThreeSteps_MatchHandComputedValues()
    {
        // lr 0.1, β1 0.9, β2 0.999, ε 1e-7; p = [1, −2]; m = v = 0.
        // t = 1, g = [0.1, −0.2]: α = 0.1·√(1 − 0.999)/(1 − 0.9) = 0.0316227766
        //   m = [0.01, −0.02], v = [0.001·0.01, 0.001·0.04] = [1e-5, 4e-5], √v = [0.00316227766, 0.00632455532]
        //   p = 1 − 0.0316227766·0.01/(0.00316227766 + 1e-7) = 0.9000031622; −2 + 0.0316227766·0.02/(0.00632455532 + 1e-7) = −1.9000015811
        // t = 2, g = [0.3, 0.1]: α = 0.1·√(1 − 0.999²)/(1 − 0.9²) = 0.0235316725
        //   m = [0.01 + 0.29·0.1, −0.02 + 0.12·0.1] = [0.039, −0.008]; v = [1e-5 + (0.09 − 1e-5)·0.001, 4e-5 + (0.01 − 4e-5)·0.001] = [9.999e-5, 4.996e-5]
        //   p = 0.9000031622 − 0.0235316725·0.039/(0.0099995 + 1e-7) = 0.8082259681; −1.9000015811 + 0.0235316725·0.008/(0.0070682388 + 1e-7) = −1.8733682540
        // t = 3, g = [−0.2, 0.05]: α = 0.1·√(1 − 0.999³)/(1 − 0.9³) = 0.0202010597
        //   m = [0.039 − 0.239·0.1, −0.008 + 0.058·0.1] = [0.0151, −0.0022]; v = [1.3989001e-4, 5.241004e-5]
        //   p = 0.8082259681 − 0.0202010597·0.0151/(0.0118275107 + 1e-7) = 0.7824358056; −1.8733682540 + 0.0202010597·0.0022/(0.0072394779 + 1e-7) = −1.8672294525
        float[] p = [1f, -2f], m = new float[2], v = new float[2];
        Runtime.Cpu.Adam.Step(p, [0.1f, -0.2f], m, v, 0.1f, 0.9f, 0.999f, 1e-7f, 1);
        AssertClose([0.9000031622, -1.9000015811], p);
        AssertClose([0.01, -0.02], m);
        AssertClose([1e-5, 4e-5], v);
        Runtime.Cpu.Adam.Step(p, [0.3f, 0.1f], m, v, 0.1f, 0.9f, 0.999f, 1e-7f, 2);
        AssertClose([0.8082259681, -1.8733682540], p);
        Runtime.Cpu.Adam.Step(p, [-0.2f, 0.05f], m, v, 0.1f, 0.9f, 0.999f, 1e-7f, 3);
        AssertClose([0.7824358056, -1.8672294525], p);
        AssertClose([0.0151, -0.0022], m);
        AssertClose([1.3989001e-4, 5.241004e-5], v);
    }

    [Fact]
    public void Adam_StepZero_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Runtime.Cpu.Adam.Step(new float[1], new float[1], new float[1], new float[1], 0.1f, 0.9f, 0.999f, 1e-7f, 0));

    [Fact]
    public void Sgd_WithoutMomentum_IgnoresAnEmptyVelocity()
    {
        // lr 0.1, p = [1, −2], g = [0.5, −0.25]: p −= 0.1·g → [0.95, −1.975] → [0.9, −1.95].
        float[] p = [1f, -2f];
        Runtime.Cpu.Sgd.Step(p, [0.5f, -0.25f], [], 0.1f, 0f, false);
        AssertClose([0.95, -1.975], p);
        Runtime.Cpu.Sgd.Step(p, [0.5f, -0.25f], [], 0.1f, 0f, false);
        AssertClose([0.9, -1.95], p);
    }

    [Fact]
    public void Sgd_Momentum_TwoSteps()
    {
        // μ 0.9, lr 0.1, g = [0.5, −0.25] twice, vel = 0:
        //   step 1: vel = −0.1·g = [−0.05, 0.025]; p = [0.95, −1.975]
        //   step 2: vel = −0.1·g + 0.9·vel = [−0.05 − 0.045, 0.025 + 0.0225] = [−0.095, 0.0475]; p = [0.855, −1.9275]
        float[] p = [1f, -2f], vel = new float[2];
        Runtime.Cpu.Sgd.Step(p, [0.5f, -0.25f], vel, 0.1f, 0.9f, false);
        AssertClose([0.95, -1.975], p);
        Runtime.Cpu.Sgd.Step(p, [0.5f, -0.25f], vel, 0.1f, 0.9f, false);
        AssertClose([-0.095, 0.0475], vel);
        AssertClose([0.855, -1.9275], p);
    }

    [Fact]
    public void Sgd_Nesterov_TwoSteps()
    {
        // μ 0.9, lr 0.1, g = [0.5, −0.25] twice, vel = 0; p += −lr·g + μ·vel (new vel):
        //   step 1: vel = [−0.05, 0.025]; p += [−0.05 − 0.045, 0.025 + 0.0225] → [0.905, −1.9525]
        //   step 2: vel = [−0.095, 0.0475]; p += [−0.05 − 0.0855, 0.025 + 0.04275] → [0.7695, −1.88475]
        float[] p = [1f, -2f], vel = new float[2];
        Runtime.Cpu.Sgd.Step(p, [0.5f, -0.25f], vel, 0.1f, 0.9f, true);
        AssertClose([0.905, -1.9525], p);
        Runtime.Cpu.Sgd.Step(p, [0.5f, -0.25f], vel, 0.1f, 0.9f, true);
        AssertClose([0.7695, -1.88475], p);
    }

    [Fact]
    public void Sgd_MomentumWithShortVelocity_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => Runtime.Cpu.Sgd.Step(new float[3], new float[3], [], 0.1f, 0.9f, false));
        Assert.Equal("velocity", ex.ParamName);
    }

    private static void AssertClose(double[] expected, float[] actual)
    {
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(actual[i] - expected[i]) <= Tolerance * Math.Max(1, Math.Abs(expected[i])), $"[{i}] got {actual[i]:R}, expected {expected[i]:R}");
        }
    }

    [Fact]
    public void Adam_VectorLanes_GiveTheScalarBits()
    {
        // 19 parameters: two eight-lane vectors and a three-element tail, against one-element (scalar-only) calls.
        const int n = 19;
        var g = TestData.Random(n, seed: 51);
        float[] p = TestData.Random(n, seed: 52), m = TestData.Random(n, seed: 53, scale: 0.1f), v = TestData.Random(n, seed: 54, scale: 0.1f).Select(Math.Abs).ToArray();
        float[] ps = (float[])p.Clone(), ms = (float[])m.Clone(), vs = (float[])v.Clone();
        for (var t = 1; t <= 3; t++)
        {
            Runtime.Cpu.Adam.Step(p, g, m, v, 0.01f, 0.9f, 0.999f, 1e-7f, t);
            for (var i = 0; i < n; i++)
            {
                Runtime.Cpu.Adam.Step(ps.AsSpan(i, 1), g.AsSpan(i, 1), ms.AsSpan(i, 1), vs.AsSpan(i, 1), 0.01f, 0.9f, 0.999f, 1e-7f, t);
            }
        }
        TestData.BitwiseEqual(ps, p, "p");
        TestData.BitwiseEqual(ms, m, "m");
        TestData.BitwiseEqual(vs, v, "v");
    }

    [Fact]
    public void Clipping_by_norm_value_and_global_norm_match_hand_computed_values()
    {
        // ‖[3, 4]‖ = 5: clipnorm 1 → [0.6, 0.8]; clipnorm 10 leaves it (g·10/10); clipvalue 3.5 → [3, 3.5];
        // global_clipnorm 2.5 over [3, 4] → scale 0.5.
        float[] g = [3f, 4f];
        GradientClipping.ByNorm(g, 1f);
        AssertClose([0.6, 0.8], g);
        g = [3f, 4f];
        GradientClipping.ByNorm(g, 10f);
        AssertClose([3, 4], g);
        g = [3f, 4f];
        GradientClipping.ByValue(g, 3.5f);
        AssertClose([3, 3.5], g);
        g = [3f, -4f];
        GradientClipping.ByGlobalNorm(g, 2.5f);
        AssertClose([1.5, -2], g);
        // A zero gradient stays zero; an infinite one makes everything NaN (Keras' scale + (norm − norm)).
        g = [0f, 0f];
        GradientClipping.ByNorm(g, 1f);
        AssertClose([0, 0], g);
        g = [float.PositiveInfinity, 1f];
        GradientClipping.ByGlobalNorm(g, 1f);
        Assert.All(g, v => Assert.True(float.IsNaN(v)));
    }

    [Fact]
    public void Adagrad_and_rmsprop_first_steps_match_hand_computed_values()
    {
        // Adagrad lr 0.1, acc 0.1, g 0.5: acc = 0.35; p = 1 − 0.05/√(0.35 + 1e-7) = 0.915484...
        float[] p = [1f], acc = [0.1f];
        Adagrad.Step(p, [0.5f], acc, 0.1f, 1e-7f);
        AssertClose([0.35], acc);
        AssertClose([1 - 0.05 / Math.Sqrt(0.35 + 1e-7)], p);
        // RMSprop lr 0.1, ρ 0.9, v 0, g 0.5: v = 0.025; p = 1 − 0.05/√(0.025 + 1e-7); centered: a = 0.05,
        // denominator = 0.025 − 0.0025 + 1e-7; momentum 0.5 on top: mom = increment, then mom = 0.5·mom + increment.
        float[] q = [1f], v = [0f], a = [0f], mom = [0f];
        RmsProp.Step(q, [0.5f], v, mom, a, 0.1f, 0.9f, 0.5f, 1e-7f, centered: true);
        var increment = 0.05 / Math.Sqrt(0.0225 + 1e-7);
        AssertClose([0.025], v);
        AssertClose([0.05], a);
        AssertClose([1 - increment], q);
        var ex = Assert.Throws<ArgumentException>(() => RmsProp.Step(new float[2], new float[2], new float[2], [], [], 0.1f, 0.9f, 0.5f, 1e-7f, false));
        Assert.Equal("momentum", ex.ParamName);
    }
}

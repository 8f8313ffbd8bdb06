namespace Kiln.Runtime.Cpu.Tests;

public class ActivationsTests
{
    public static TheoryData<Epilogue> All() => [.. ActivationReference.All];

    // The activations whose derivative is written from the output (every fused backward path).
    public static TheoryData<Epilogue> FromOutput() => [.. ActivationReference.All.Where(a => !Activations.BackwardNeedsInput(a))];

    // (act, alpha) for the standalone layers: Keras' defaults and other parameters.
    public static TheoryData<Epilogue, float> WithAlpha() => new()
    {
        { Epilogue.LeakyRelu, 0.2f }, { Epilogue.LeakyRelu, 0.01f }, { Epilogue.LeakyRelu, 0f },
        { Epilogue.Elu, 1f }, { Epilogue.Elu, 0.5f }, { Epilogue.Relu, 0f }, { Epilogue.Sigmoid, 0f }, { Epilogue.Tanh, 0f },
        { Epilogue.Gelu, 0f }, { Epilogue.Swish, 0f }, { Epilogue.Softplus, 0f }, { Epilogue.Linear, 0f },
    };

    [Theory]
    [MemberData(nameof(All))]
    public void Forward_MatchesReference(Epilogue act)
    {
        var z = TestData.Random(37, seed: 41, scale: 4f);
        var y = (float[])z.Clone();
        Activations.Forward(y, act);
        Approx.Equal(ActivationReference.Apply(TestData.ToDouble(z), act), y, $"{act}");
    }

    [Theory]
    [MemberData(nameof(FromOutput))]
    public void Backward_FromOutput_MatchesFiniteDifferences(Epilogue act)
    {
        // L = Σ r·f(z): ∂L/∂z = r·f′(z); the kernel gets y = f(z) and dy = r.
        var z = TestData.Random(29, seed: 42, scale: 2f);
        var r = TestData.ToDouble(TestData.Random(z.Length, seed: 43));
        var y = (float[])z.Clone();
        Activations.Forward(y, act);
        var dy = r.Select(v => (float)v).ToArray();
        Activations.Backward(y, dy, act);
        var expected = FiniteDifference.Gradient(v => TestData.Dot(r, ActivationReference.Apply(v, act)), TestData.ToDouble(z), h: 1e-5);
        Approx.Equal(expected, dy, $"{act}'", Approx.FdAtol, Approx.FdRtol);
    }

    [Theory]
    [InlineData(Epilogue.Gelu)]
    [InlineData(Epilogue.Swish)]
    public void Backward_FromOutput_RefusesActivationsThatNeedTheInput(Epilogue act)
    {
        Assert.True(Activations.BackwardNeedsInput(act));
        var e = Assert.Throws<ArgumentException>(() => Activations.Backward(new float[3], new float[3], act));
        Assert.Contains("input", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(WithAlpha))]
    public void Standalone_ForwardAndBackward_MatchReferenceAndFiniteDifferences(Epilogue act, float alpha)
    {
        // 37 elements (ragged for the vector paths) and 70 003 (split over threads).
        foreach (var n in new[] { 37, 70_003 })
        {
            var x = TestData.Random(n, seed: 44, scale: 5f);
            var y = TestData.Poisoned(n);
            Activations.Forward(x, y, act, alpha);
            Approx.Equal(ActivationReference.Apply(TestData.ToDouble(x), act, alpha), y, $"{act}({alpha}) n {n}");
            if (n > 100)
            {
                continue;
            }
            var r = TestData.ToDouble(TestData.Random(n, seed: 45));
            var dx = TestData.Poisoned(n);
            // x is passed only where the derivative needs it: the others must work from y alone.
            Activations.Backward(Activations.BackwardNeedsInput(act) ? x : default, y, r.Select(v => (float)v).ToArray(), dx, act, alpha);
            var expected = FiniteDifference.Gradient(v => TestData.Dot(r, ActivationReference.Apply(v, act, alpha)), TestData.ToDouble(x), h: 1e-5);
            Approx.Equal(expected, dx, $"{act}({alpha})'", Approx.FdAtol, Approx.FdRtol);
        }
    }

    [Theory]
    [MemberData(nameof(All))]
    public void Standalone_InPlace_EqualsOutOfPlace(Epilogue act)
    {
        var x = TestData.Random(1000, seed: 46, scale: 3f);
        var (y, inPlace) = (new float[x.Length], (float[])x.Clone());
        var alpha = (float)ActivationReference.DefaultAlpha(act);
        Activations.Forward(x, y, act, alpha);
        Activations.Forward(inPlace, inPlace, act, alpha);
        TestData.BitwiseEqual(y, inPlace, $"{act} in place");
        var dy = TestData.Random(x.Length, seed: 47);
        var dx = new float[x.Length];
        Activations.Backward(x, y, dy, dx, act, alpha);
        Activations.Backward(x, y, dy, dy, act, alpha);
        TestData.BitwiseEqual(dx, dy, $"{act}' in place");
    }

    [Theory]
    [InlineData(-104f)]
    [InlineData(-30f)]
    [InlineData(-9f)]
    [InlineData(30f)]
    [InlineData(104f)]
    public void ExtremeInputs_StayFiniteAndAccurate(float v)
    {
        // Gelu's negative tail through erfc (1 + erf would cancel to 0 or worse), softplus without overflow or log(1 + tiny) = 0.
        foreach (var act in ActivationReference.All)
        {
            var y = new float[1];
            Activations.Forward([v], y, act, (float)ActivationReference.DefaultAlpha(act));
            var expected = ActivationReference.Apply(v, act);
            Assert.True(float.IsFinite(y[0]), $"{act}({v}) = {y[0]}");
            Assert.True(Math.Abs(y[0] - expected) <= 1e-6 * Math.Abs(expected) + 1e-44, $"{act}({v}) = {y[0]:R}, expected {expected:R}");
        }
    }

    [Theory]
    [InlineData(Epilogue.Tanh)]
    [InlineData(Epilogue.Sigmoid)]
    public void VectorisedFunctions_AreAccurate_AndAgreeWithTheScalarPath(Epilogue act)
    {
        // 400 001 points over [−20, 20] (both branches of tanh, its switch at 0.4, sigmoid's saturation), a length that
        // leaves a tail of one lane, plus the points where the branches meet and the special values.
        var x = Enumerable.Range(0, 400_001).Select(i => -20f + i * 1e-4f).Concat([0.4f, -0.4f, 0.39999998f, 0f, -0f, 1e-30f, -1e-30f, float.MaxValue, float.MinValue]).ToArray();
        var y = new float[x.Length];
        Activations.Forward(x, y, act, 0f);
        var worst = 0.0;
        for (var i = 0; i < x.Length; i++)
        {
            var expected = ActivationReference.Apply(x[i], act);
            worst = Math.Max(worst, Math.Abs(y[i] - expected) / Math.Max(Math.Abs(expected), 1e-30));
            Assert.Equal(BitConverter.SingleToInt32Bits(Activations.Apply(x[i], act, 0f)), BitConverter.SingleToInt32Bits(y[i]));
        }
        Assert.True(worst <= 4e-7, $"{act}: worst relative error {worst:E2}");
        var special = new float[3];
        Activations.Forward([float.NaN, float.PositiveInfinity, float.NegativeInfinity], special, act, 0f);
        Assert.True(float.IsNaN(special[0]));
        Assert.Equal(act == Epilogue.Tanh ? [1f, -1f] : [1f, 0f], special[1..]);
    }

    [Fact]
    public void Erf_IsWithinOneUlp()
    {
        // Every 1/1024 on [−6, 6] and a geometric sweep of small and large arguments.
        var points = Enumerable.Range(-6144, 12289).Select(i => i / 1024.0)
            .Concat(Enumerable.Range(0, 200).Select(i => Math.Pow(10, -30 + i * 0.15)))
            .Concat(Enumerable.Range(0, 100).Select(i => 0.5 + i * 0.095));
        foreach (var z in points)
        {
            var zf = (float)z;
            Ulps(ScalarMath.Erf(zf), ErfReference.Erf(zf), $"erf({zf:R})");
            Ulps(ScalarMath.Erfc(zf), ErfReference.Erfc(zf), $"erfc({zf:R})");
            Ulps(ScalarMath.Erfc(-zf), ErfReference.Erfc(-zf), $"erfc({-zf:R})");
        }
    }

    [Fact]
    public void ExpM1AndLog1P_KeepSmallArguments()
    {
        foreach (var x in new[] { 1e-30, -3e-12, 1e-7, -1e-4, 0.3, -0.7, 5.0, -40.0 })
        {
            // Series to far below float precision for the tiny ones, the library for the rest.
            var expm1 = Math.Abs(x) < 1e-3 ? x + x * x / 2 + x * x * x / 6 : Math.Exp(x) - 1;
            var log1p = Math.Abs(x) < 1e-3 ? x - x * x / 2 + x * x * x / 3 : Math.Log(1 + x);
            Ulps((float)ScalarMath.ExpM1(x), expm1, $"expm1({x})");
            if (x > -1)
            {
                Ulps((float)ScalarMath.Log1P(x), log1p, $"log1p({x})");
            }
        }
    }

    [Fact]
    public void UnknownActivation_Throws()
    {
        // 4 is Activation.Softmax, which no element-wise kernel computes.
        Assert.Throws<ArgumentOutOfRangeException>(() => Activations.Forward(new float[1], (Epilogue)4));
        Assert.Throws<ArgumentOutOfRangeException>(() => Activations.Forward(new float[1], (Epilogue)10));
        Assert.Throws<ArgumentOutOfRangeException>(() => Activations.Forward(new float[1], new float[1], Epilogue.LeakyRelu, -0.1f));
    }

    // |got − expected| ≤ 1 ulp of the float nearest expected (subnormals: the smallest ulp).
    private static void Ulps(float got, double expected, string what)
    {
        var nearest = (float)expected;
        var ulp = Math.Max(MathF.BitIncrement(MathF.Abs(nearest)) - MathF.Abs(nearest), float.Epsilon);
        Assert.True(Math.Abs(got - expected) <= ulp, $"{what}: got {got:R}, expected {expected:R} ({Math.Abs(got - expected) / ulp:F2} ulp)");
    }

    [Fact]
    public void Relu_VectorAndTailLanes_MatchTheScalarRule()
    {
        // y > 0 ? y : 0 for every length around the eight-lane vector, with NaN and −0 mapped to +0.
        for (var n = 1; n <= 19; n++)
        {
            var z = TestData.Random(n, seed: 44 + n);
            z[n / 2] = float.NaN;
            z[n - 1] = -0f;
            var y = (float[])z.Clone();
            Activations.Forward(y, Epilogue.Relu);
            TestData.BitwiseEqual(z.Select(v => v > 0f ? v : 0f).ToArray(), y, $"relu, n = {n}");

            var dy = TestData.Random(n, seed: 45 + n);
            var expected = dy.Select((d, i) => y[i] > 0f ? d : 0f).ToArray();
            Activations.Backward(y, dy, Epilogue.Relu);
            TestData.BitwiseEqual(expected, dy, $"relu', n = {n}");
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 10)]
    [InlineData(129, 35)]
    public void BiasBackward_SumsRowsInAscendingOrder(int rows, int n)
    {
        // 35 columns: one four-vector block, no single vector, three scalar columns; every column summed row by row.
        var dz = TestData.Random(rows * n, seed: 46);
        var db = TestData.Poisoned(n);
        Activations.BiasBackward(dz, db);
        var expected = new float[n];
        for (var r = 0; r < rows; r++)
        {
            for (var o = 0; o < n; o++)
            {
                expected[o] += dz[r * n + o];
            }
        }
        TestData.BitwiseEqual(expected, db, $"db {rows}×{n}");
    }
}

namespace Kiln.Runtime.Cpu.Tests;

public class DropoutTests
{
    [Fact]
    public void Hash_OfFixedInputs_MatchesTheDocumentedFormula()
    {
        // Hash(1, 2, 3), all arithmetic mod 2^32, mix32 = x^=x>>16; x*=0x7FEB352D; x^=x>>15; x*=0x846CA68B; x^=x>>16:
        //   seed ^ 0x9E3779B9 = 0x9E3779B8
        //     x^=x>>16 → 0x9E37E78F; *0x7FEB352D → 0xE4094F23; x^=x>>15 → 0xE4088731; *0x846CA68B → 0xA4F72D9B; x^=x>>16 → 0xA4F7896C
        //   h1 ^ step = 0xA4F7896C ^ 2 = 0xA4F7896E
        //     x^=x>>16 → 0xA4F72D99; *0x7FEB352D → 0xEE56B0E5; x^=x>>15 → 0xEE576C48; *0x846CA68B → 0xE80E7B18; x^=x>>16 → 0xE80E9316
        //   h2 ^ index = 0xE80E9316 ^ 3 = 0xE80E9315
        //     x^=x>>16 → 0xE80E7B1B; *0x7FEB352D → 0x30D13ABF; x^=x>>15 → 0x30D15B1D; *0x846CA68B → 0xA6FD46BF; x^=x>>16 → 0xA6FDE042
        Assert.Equal(0xA6FDE042u, Dropout.Hash(1, 2, 3));
        // Keep: (0xA6FDE042 >> 8) · 2^-24 = 0xA6FDE0 / 2^24 = 10943968 / 16777216 ≈ 0.65231
        Assert.True(Dropout.Keep(1, 2, 3, 0.65f));
        Assert.False(Dropout.Keep(1, 2, 3, 0.66f));
    }

    [Fact]
    public void Mask_DependsOnlyOnSeedStepAndIndex()
    {
        const int n = 4096;
        var x = TestData.Random(n, seed: 51);
        var a = TestData.Poisoned(n);
        var b = TestData.Poisoned(n);
        var c = TestData.Poisoned(n);
        Dropout.Forward(x, a, 0.5f, seed: 7, step: 3);
        Dropout.Forward(x, b, 0.5f, seed: 7, step: 3);
        Dropout.Forward(x, c, 0.5f, seed: 7, step: 4);
        TestData.BitwiseEqual(a, b, "same seed and step");
        var differ = Enumerable.Range(0, n).Count(i => (a[i] == 0) != (c[i] == 0));
        Assert.InRange(differ, n / 4, 3 * n / 4); // independent masks disagree on about half the elements
    }

    [Theory]
    [InlineData(0.1f)]
    [InlineData(0.25f)]
    [InlineData(0.5f)]
    [InlineData(0.9f)]
    public void KeepFraction_IsOneMinusRate(float rate)
    {
        const int n = 100_000;
        var kept = 0;
        for (var i = 0; i < n; i++)
        {
            kept += Dropout.Keep(12345, 6, (uint)i, rate) ? 1 : 0;
        }
        // Binomial standard deviation ≤ √(0.25/n) ≈ 0.0016; allow 4σ.
        Assert.InRange(kept / (double)n, 1 - rate - 0.0064, 1 - rate + 0.0064);
    }

    [Fact]
    public void Forward_ScalesKeptElementsAndZeroesTheRest()
    {
        const float rate = 0.3f;
        var x = TestData.Random(1000, seed: 52);
        var y = TestData.Poisoned(x.Length);
        Dropout.Forward(x, y, rate, 9, 1);
        for (var i = 0; i < x.Length; i++)
        {
            Assert.Equal(Dropout.Keep(9, 1, (uint)i, rate) ? x[i] / (1 - rate) : 0f, y[i]);
        }
        var all = TestData.Poisoned(x.Length);
        Dropout.Forward(x, all, 0f, 9, 1);
        Assert.Equal(x, all);
    }

    [Fact]
    public void Backward_MatchesFiniteDifferences()
    {
        // L = Σ r·dropout(x) with the mask of (seed 4, step 2): ∂L/∂x = r·keep/(1 − rate).
        const float rate = 0.4f;
        var x = TestData.Random(257, seed: 53);
        var r = TestData.ToDouble(TestData.Random(x.Length, seed: 54));
        double Loss(double[] v)
        {
            var s = 0.0;
            for (var i = 0; i < v.Length; i++)
            {
                s += Dropout.Keep(4, 2, (uint)i, rate) ? r[i] * v[i] / (1 - (double)rate) : 0;
            }
            return s;
        }
        var dx = TestData.Poisoned(x.Length);
        Dropout.Backward(r.Select(v => (float)v).ToArray(), dx, rate, 4, 2);
        Approx.Equal(FiniteDifference.Gradient(Loss, TestData.ToDouble(x)), dx, "dropout dx", Approx.FdAtol, Approx.FdRtol);
    }

    [Fact]
    public void InvalidRate_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Dropout.Forward(new float[2], new float[2], 1f, 0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Dropout.Backward(new float[2], new float[2], -0.1f, 0, 0));
    }
}

using Kiln.Oracles;

namespace Kiln.Runtime.Cpu.Tests;

/// <summary>
/// <see cref="BatchNorm.Fold"/>: a convolution run with the folded kernel and bias gives what the convolution followed by
/// inference-mode BatchNormalization (and ReLU) gives in float64, through the implicit GEMM and the Winograd paths.
/// </summary>
public class BatchNormFoldTests
{
    private const float Epsilon = 1e-3f;

    [Theory]
    [InlineData(28, 1, 16, true, true, true)] // a first layer: the implicit GEMM
    [InlineData(14, 16, 16, false, true, true)] // F(6×6, 3×3)
    [InlineData(14, 16, 16, true, false, false)]
    [InlineData(7, 8, 24, false, false, true)]
    public void The_folded_convolution_matches_the_convolution_then_the_normalisation(int size, int inC, int outC, bool bias, bool scale, bool center)
    {
        const int batch = 3;
        var g = Geometries.ConvSame(size, size, inC, outC, 3, 1);
        var x = TestData.Random(batch * g.InSize, seed: 1);
        var w = TestData.Random(g.PatchSize * outC, seed: 2, scale: 0.3f);
        var b = bias ? TestData.Random(outC, seed: 3, scale: 0.2f) : [];
        var gamma = scale ? TestData.Random(outC, seed: 4) : [];
        var beta = center ? TestData.Random(outC, seed: 5) : [];
        var mean = TestData.Random(outC, seed: 6, scale: 0.5f);
        var variance = TestData.Random(outC, seed: 7).Select(v => MathF.Abs(v) + 0.1f).ToArray();

        var (foldedKernel, foldedBias) = (TestData.Poisoned(w.Length), TestData.Poisoned(outC));
        BatchNorm.Fold(w, b, gamma, beta, mean, variance, Epsilon, foldedKernel, foldedBias);
        var plan = new Conv2DPlan(g, null, Epilogue.Relu, batch, dataGradient: false);
        var y = TestData.Poisoned(batch * g.OutSize);
        plan.Forward(x, foldedKernel, foldedBias, y, batch, new float[plan.ScratchSize]);

        var z = Conv2DReference.Forward(TestData.ToDouble(x), TestData.ToDouble(w), bias ? TestData.ToDouble(b) : new double[outC], batch, g, Epilogue.Linear);
        var normalised = BatchNormReference.Normalize(z, scale ? TestData.ToDouble(gamma) : null, center ? TestData.ToDouble(beta) : null,
            TestData.ToDouble(mean), TestData.ToDouble(variance), batch * size * size, outC, Epsilon);
        Approx.Equal(normalised.Select(v => Math.Max(v, 0)).ToArray(), y, $"folded {size}×{size}×{inC}→{outC}", Approx.LongAtol, Approx.LongRtol);
    }

    [Fact]
    public void Wrong_lengths_are_refused_by_name()
    {
        var (w, c) = (new float[18], new float[2]);
        Assert.Equal("kernel", Assert.Throws<ArgumentException>(() => BatchNorm.Fold(new float[17], [], [], [], c, c, Epsilon, new float[17], c)).ParamName);
        Assert.Equal("foldedKernel", Assert.Throws<ArgumentException>(() => BatchNorm.Fold(w, [], [], [], c, c, Epsilon, new float[16], c)).ParamName);
        Assert.Equal("gamma", Assert.Throws<ArgumentException>(() => BatchNorm.Fold(w, [], new float[3], [], c, c, Epsilon, new float[18], c)).ParamName);
        Assert.Equal("movingVariance", Assert.Throws<ArgumentException>(() => BatchNorm.Fold(w, [], [], [], c, new float[1], Epsilon, new float[18], c)).ParamName);
        Assert.Equal("epsilon", Assert.Throws<ArgumentOutOfRangeException>(() => BatchNorm.Fold(w, [], [], [], c, c, 0f, new float[18], c)).ParamName);
    }
}

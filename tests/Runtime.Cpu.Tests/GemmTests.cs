using System.Runtime.Intrinsics.X86;

namespace Kiln.Runtime.Cpu.Tests;

public class GemmTests
{
    public enum Variant { NN, TN, NT }

    // Ragged sizes around the micro-tile (6×16) and the blocking (MC 120, KC 256, NC 1024).
    public static TheoryData<Variant, int, int, int> Shapes()
    {
        var data = new TheoryData<Variant, int, int, int>();
        foreach (var v in Enum.GetValues<Variant>())
        {
            data.Add(v, 1, 1, 1);
            data.Add(v, 3, 13, 7);
            data.Add(v, 6, 16, 8);
            data.Add(v, 7, 17, 9);
            data.Add(v, 121, 33, 257);
        }
        data.Add(Variant.NN, 5, 1030, 300);
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MatchesDoubleReference_WithPaddedLeadingDimensions(Variant variant, int m, int n, int k)
    {
        var (a, lda, b, ldb, refA, refB) = Operands(variant, m, n, k, seed: m * 31 + n);
        var ldc = n + 3;
        var c = TestData.Poisoned(m * ldc);
        Call(variant, m, n, k, a, lda, b, ldb, c, ldc, accumulate: false);

        var expected = GemmReference.Multiply(m, n, k, refA, refB);
        var tol = k > 100 ? Approx.LongAtol : Approx.Atol;
        Approx.Equal(expected, Strip(c, m, n, ldc), $"{variant} {m}×{n}×{k}", tol, k > 100 ? Approx.LongRtol : Approx.Rtol);
        for (var i = 0; i < m; i++)
        {
            for (var j = n; j < ldc; j++)
            {
                Assert.True(float.IsNaN(c[i * ldc + j]), $"C padding [{i},{j}] was written");
            }
        }
    }

    [Theory]
    [InlineData(Variant.NN)]
    [InlineData(Variant.TN)]
    [InlineData(Variant.NT)]
    public void Accumulate_AddsToC(Variant variant)
    {
        const int m = 9, n = 21, k = 270;
        var (a, lda, b, ldb, refA, refB) = Operands(variant, m, n, k, seed: 5);
        var c = TestData.Random(m * n, seed: 6);
        var expected = GemmReference.Multiply(m, n, k, refA, refB, TestData.ToDouble(c));
        Call(variant, m, n, k, a, lda, b, ldb, c, n, accumulate: true);
        Approx.Equal(expected, c, "accumulate", Approx.LongAtol, Approx.LongRtol);
    }

    [Fact]
    public void ZeroInnerDimension_ClearsC()
    {
        var c = TestData.Random(12, seed: 1);
        Gemm.Multiply(3, 4, 0, [], 1, [], 4, c, 4);
        Assert.All(c, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void ScalarFallback_GivesTheSameBitsAsTheVectorKernel()
    {
        // Both paths do one fused multiply-add per k in the same order, so the bits must agree exactly.
        Assert.True(Fma.IsSupported, "this check needs a CPU with AVX2/FMA to compare against");
        const int m = 131, n = 37, k = 300;
        var a = TestData.Random(m * k, seed: 11);
        var b = TestData.Random(k * n, seed: 12);
        var vector = TestData.Poisoned(m * n);
        var scalar = TestData.Poisoned(m * n);
        Gemm.Run(m, n, k, a, k, 1, b, n, 1, vector, n, accumulate: false, vectorized: true);
        Gemm.Run(m, n, k, a, k, 1, b, n, 1, scalar, n, accumulate: false, vectorized: false);
        TestData.BitwiseEqual(vector, scalar, "scalar vs FMA micro-kernel");
    }

    [Fact]
    public void SameInputs_SameBits()
    {
        var a = TestData.Random(50 * 70, seed: 13);
        var b = TestData.Random(70 * 40, seed: 14);
        var first = new float[50 * 40];
        var second = new float[50 * 40];
        Gemm.MultiplyTransposeA(70, 40, 50, a, 70, b.AsSpan(0, 50 * 40), 40, new float[70 * 40], 40);
        Gemm.Multiply(50, 40, 70, a, 70, b, 40, first, 40);
        Gemm.Multiply(50, 40, 70, a, 70, b, 40, second, 40);
        TestData.BitwiseEqual(first, second, "two identical calls");
    }

    [Fact]
    public void TooShortOperand_ThrowsNamingIt()
    {
        var ex = Assert.Throws<ArgumentException>(() => Gemm.Multiply(2, 3, 4, new float[7], 4, new float[12], 3, new float[6], 3));
        Assert.Equal("a", ex.ParamName);
        Assert.Contains("expected at least 8", ex.Message);
    }

    private static void Call(Variant v, int m, int n, int k, float[] a, int lda, float[] b, int ldb, float[] c, int ldc, bool accumulate)
    {
        switch (v)
        {
            case Variant.NN: Gemm.Multiply(m, n, k, a, lda, b, ldb, c, ldc, accumulate); break;
            case Variant.TN: Gemm.MultiplyTransposeA(m, n, k, a, lda, b, ldb, c, ldc, accumulate); break;
            default: Gemm.MultiplyTransposeB(m, n, k, a, lda, b, ldb, c, ldc, accumulate); break;
        }
    }

    // Stored operands with leading dimensions wider than the rows, plus accessors for the logical A(i, p) and B(p, j).
    private static (float[] A, int Lda, float[] B, int Ldb, Func<int, int, double> RefA, Func<int, int, double> RefB) Operands(Variant v, int m, int n, int k, int seed)
    {
        var transA = v == Variant.TN;
        var transB = v == Variant.NT;
        var (aRows, aCols) = transA ? (k, m) : (m, k);
        var (bRows, bCols) = transB ? (n, k) : (k, n);
        int lda = aCols + 2, ldb = bCols + 1;
        var a = TestData.Random(aRows * lda, seed);
        var b = TestData.Random(bRows * ldb, seed + 1);
        Func<int, int, double> refA = transA ? (i, p) => a[p * lda + i] : (i, p) => a[i * lda + p];
        Func<int, int, double> refB = transB ? (p, j) => b[j * ldb + p] : (p, j) => b[p * ldb + j];
        return (a, lda, b, ldb, refA, refB);
    }

    private static float[] Strip(float[] c, int m, int n, int ldc)
    {
        var r = new float[m * n];
        for (var i = 0; i < m; i++)
        {
            Array.Copy(c, i * ldc, r, i * n, n);
        }
        return r;
    }
}

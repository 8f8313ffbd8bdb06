namespace Kiln.Runtime.Cpu.Tests;

/// <summary>The small-product path (Iris-sized layers), the few-row path (one image) and the blocked path on ragged shapes.</summary>
public class GemmFastPathTests
{
    public enum Variant { NN, TN, NT }

    // Sizes that are not multiples of 4, 8 or 16, and batches 1, 3 and 129.
    public static TheoryData<Variant, int, int, int> Ragged()
    {
        var data = new TheoryData<Variant, int, int, int>();
        foreach (var v in Enum.GetValues<Variant>())
        {
            data.Add(v, 1, 1, 1);
            data.Add(v, 3, 10, 4);
            data.Add(v, 32, 3, 10);
            data.Add(v, 5, 17, 9);
            data.Add(v, 129, 13, 3);
            data.Add(v, 4, 10, 32);
            data.Add(v, 7, 25, 19);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Ragged))]
    public void BothPaths_MatchDoubleReference_AndWriteNothingElse(Variant variant, int m, int n, int k)
    {
        var (a, aRow, aCol, b, bRow, bCol, refA, refB) = Operands(variant, m, n, k, seed: m + 7 * n + 31 * k);
        var expected = GemmReference.Multiply(m, n, k, refA, refB);
        foreach (var small in new[] { true, false })
        {
            var ldc = n + 5;
            var c = TestData.Poisoned(m * ldc);
            Gemm.Run(m, n, k, a, aRow, aCol, b, bRow, bCol, c, ldc, accumulate: false, vectorized: true, small);
            Approx.Equal(expected, Strip(c, m, n, ldc), $"{variant} {m}×{n}×{k} small={small}");
            for (var i = 0; i < m; i++)
            {
                for (var j = n; j < ldc; j++)
                {
                    Assert.True(float.IsNaN(c[i * ldc + j]), $"small={small}: C padding [{i},{j}] was written");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Ragged))]
    public void SmallPath_GivesTheBlockedPathsBits(Variant variant, int m, int n, int k)
    {
        // For k ≤ KC both compute each element as 0, then one fused multiply-add per p ascending, then the store.
        var (a, aRow, aCol, b, bRow, bCol, _, _) = Operands(variant, m, n, k, seed: 3 * m + n);
        foreach (var accumulate in new[] { false, true })
        {
            var blocked = TestData.Random(m * n, seed: 99);
            var small = (float[])blocked.Clone();
            Gemm.Run(m, n, k, a, aRow, aCol, b, bRow, bCol, blocked, n, accumulate, vectorized: true, small: false);
            Gemm.Run(m, n, k, a, aRow, aCol, b, bRow, bCol, small, n, accumulate, vectorized: true, small: true);
            TestData.BitwiseEqual(blocked, small, $"{variant} {m}×{n}×{k} accumulate={accumulate}");
        }
    }

    // Fewer rows than a micro-tile with B row-major (one-image inference), k past one KC slice; whole 64-column blocks
    // (unmasked) beside ragged ones.
    [Theory]
    [InlineData(Variant.NN, 1, 128, 1568)]
    [InlineData(Variant.NN, 5, 200, 600)]
    [InlineData(Variant.TN, 2, 64, 300)]
    [InlineData(Variant.NN, 3, 13, 300)]
    [InlineData(Variant.TN, 5, 40, 257)]
    [InlineData(Variant.NN, 1, 7, 600)]
    public void FewRowsPath_MatchesReference_AndGivesTheBlockedPathsBits(Variant variant, int m, int n, int k)
    {
        var (a, aRow, aCol, b, bRow, bCol, refA, refB) = Operands(variant, m, n, k, seed: m + n + k);
        foreach (var accumulate in new[] { false, true })
        {
            var start = TestData.Random(m * n, seed: 98);
            var blocked = (float[])start.Clone();
            var fewRows = (float[])start.Clone();
            Gemm.Run(m, n, k, a, aRow, aCol, b, bRow, bCol, blocked, n, accumulate, vectorized: true, small: false);
            Gemm.Run(m, n, k, a, aRow, aCol, b, bRow, bCol, fewRows, n, accumulate, vectorized: true, small: true);
            TestData.BitwiseEqual(blocked, fewRows, $"{variant} {m}×{n}×{k} accumulate={accumulate}");
            var expected = GemmReference.Multiply(m, n, k, refA, refB, accumulate ? TestData.ToDouble(start) : null);
            Approx.Equal(expected, fewRows, $"{variant} {m}×{n}×{k}", Approx.LongAtol, Approx.LongRtol);
        }
    }

    [Theory]
    [InlineData(1, 1568, 128, Epilogue.Relu)]
    [InlineData(1, 4, 10, Epilogue.Relu)]
    [InlineData(1, 300, 72, Epilogue.Linear)]
    [InlineData(3, 10, 3, Epilogue.Linear)]
    [InlineData(129, 13, 17, Epilogue.Relu)]
    [InlineData(129, 300, 19, Epilogue.Tanh)]
    public void FusedBiasAndActivation_MatchDoubleReference(int batch, int inF, int outF, Epilogue act)
    {
        var x = TestData.Random(batch * inF, seed: 5);
        var w = TestData.Random(inF * outF, seed: 6);
        var bias = TestData.Random(outF, seed: 7);
        var y = TestData.Poisoned(batch * outF);
        Dense.Forward(x, w, bias, y, batch, inF, outF, act);
        var expected = DenseReference.Forward(TestData.ToDouble(x), TestData.ToDouble(w), TestData.ToDouble(bias), batch, inF, outF, act);
        Approx.Equal(expected, y, $"dense {batch}×{inF}→{outF} {act}", Approx.LongAtol, Approx.LongRtol);
    }

    // A stored as [m×k] (or [k×m] for TN) and B as [k×n] (or [n×k] for NT), as element strides for Gemm.Run.
    private static (float[] A, int ARow, int ACol, float[] B, int BRow, int BCol, Func<int, int, double> RefA, Func<int, int, double> RefB) Operands(Variant v, int m, int n, int k, int seed)
    {
        var a = TestData.Random(m * k, seed);
        var b = TestData.Random(k * n, seed + 1);
        var (aRow, aCol) = v == Variant.TN ? (1, m) : (k, 1);
        var (bRow, bCol) = v == Variant.NT ? (1, k) : (n, 1);
        return (a, aRow, aCol, b, bRow, bCol, (i, p) => a[i * aRow + p * aCol], (p, j) => b[p * bRow + j * bCol]);
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

using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Runtime.Cpu;

/// <summary>
/// Row-major single-precision matrix products, the one place the CPU runtime spends its speed. Dense and Conv2D
/// (through im2col) call nothing else for their heavy work.
/// </summary>
/// <remarks>
/// <para>Structure (the BLIS/GotoBLAS scheme): C is cut into <see cref="NC"/>-column blocks, K into <see cref="KC"/>
/// slices, A into <see cref="MC"/>-row blocks. Each K slice of B is packed into <see cref="NR"/>-wide panels and each
/// block of A into <see cref="MR"/>-tall panels, zero-padded at the edges, so one register-blocked micro-kernel reads
/// both operands with unit stride whatever the transposition. Transposes cost nothing beyond the packing.</para>
/// <para>Determinism: every C element is Σ over the K slices in ascending order, and within a slice one fused
/// multiply-add per k in ascending order. The scalar fallback uses <see cref="MathF.FusedMultiplyAdd"/> in the same
/// order, so both paths give the same bits.</para>
/// <para>Threads: large products are cut into row (or column) ranges of C, one per <see cref="Workers"/> part. Each part
/// packs its own operands and computes its elements with exactly the arithmetic above, so the result does not depend
/// on the number of threads.</para>
/// </remarks>
public static partial class Gemm
{
    /// <summary>Rows of the micro-tile: 6 rows × 2 vectors = 12 accumulators, 2 B vectors and 1 broadcast fit 16 YMM registers.</summary>
    public const int MR = 6;

    /// <summary>Columns of the micro-tile (two <see cref="Vector256{T}"/> of floats).</summary>
    public const int NR = 16;

    /// <summary>K slice: an MR×KC panel of A and a KC×NR panel of B stay in L1 while a micro-tile is computed.</summary>
    public const int KC = 256;

    /// <summary>Rows of A packed at once (MC×KC floats, 120 KiB, meant for L2).</summary>
    public const int MC = 120;

    /// <summary>Columns of B packed at once (KC×NC floats, 1 MiB, meant for L2/L3).</summary>
    public const int NC = 1024;

    // Below this many multiply-adds per part, waking a worker costs more than it saves.
    private const long MinimumPartMacs = 1 << 20;

    /// <summary>C[m×n] = A[m×k]·B[k×n] (or C += when <paramref name="accumulate"/>); a[i·lda + p], b[p·ldb + j], c[i·ldc + j].</summary>
    public static void Multiply(int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate = false)
    {
        Validate(m, n, k, a.Length, lda, m, k, b.Length, ldb, k, n, c.Length, ldc);
        Run(m, n, k, a, lda, 1, b, ldb, 1, c, ldc, accumulate, Fma.IsSupported);
    }

    /// <summary>C = act(A·B + bias) with bias[n] broadcast over rows: the Dense forward, fused into the last store of C.</summary>
    internal static unsafe void MultiplyBias(int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, ReadOnlySpan<float> bias, Epilogue act)
    {
        Validate(m, n, k, a.Length, lda, m, k, b.Length, ldb, k, n, c.Length, ldc);
        Check.Length(bias.Length, n, nameof(bias));
        fixed (float* pa = a, pb = b, pc = c, pbias = bias)
        {
            Run(m, n, k, pa, lda, 1, pb, ldb, 1, pc, ldc, accumulate: false, Fma.IsSupported, pbias, act == Epilogue.Relu);
        }
        if (act is not (Epilogue.Linear or Epilogue.Relu))
        {
            for (var i = 0; i < m; i++)
            {
                Activations.Forward(c.Slice(i * ldc, n), act);
            }
        }
    }

    /// <summary>C[m×n] = Aᵀ·B where A is stored [k×m]: a[p·lda + i], b[p·ldb + j], c[i·ldc + j].</summary>
    public static void MultiplyTransposeA(int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate = false)
    {
        Validate(m, n, k, a.Length, lda, k, m, b.Length, ldb, k, n, c.Length, ldc);
        Run(m, n, k, a, 1, lda, b, ldb, 1, c, ldc, accumulate, Fma.IsSupported);
    }

    /// <summary>C[m×n] = A·Bᵀ where B is stored [n×k]: a[i·lda + p], b[j·ldb + p], c[i·ldc + j].</summary>
    public static void MultiplyTransposeB(int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate = false)
    {
        Validate(m, n, k, a.Length, lda, m, k, b.Length, ldb, n, k, c.Length, ldc);
        Run(m, n, k, a, lda, 1, b, 1, ldb, c, ldc, accumulate, Fma.IsSupported);
    }

    // Checks each operand as a stored rows×cols matrix with leading dimension ld.
    private static void Validate(int m, int n, int k, int aLength, int lda, int aRows, int aCols, int bLength, int ldb, int bRows, int bCols, int cLength, int ldc)
    {
        Check.NonNegative(m, nameof(m));
        Check.NonNegative(n, nameof(n));
        Check.NonNegative(k, nameof(k));
        Operand(aLength, lda, aRows, aCols, "a", nameof(lda));
        Operand(bLength, ldb, bRows, bCols, "b", nameof(ldb));
        Operand(cLength, ldc, m, n, "c", nameof(ldc));
    }

    private static void Operand(int length, int ld, int rows, int cols, string name, string ldName)
    {
        if (ld < Math.Max(cols, 1))
        {
            throw new ArgumentOutOfRangeException(ldName, ld, $"{ldName} must be at least {Math.Max(cols, 1)} (the stored row length of {name}).");
        }
        if (rows > 0 && cols > 0)
        {
            Check.AtLeast(length, (long)(rows - 1) * ld + cols, name);
        }
    }

    // Element (i, p) of A is a[i·aRow + p·aCol]; element (p, j) of B is b[p·bRow + j·bCol]. Unchecked: callers validate.
    // Tests call this to pin a path: vectorized: false proves the scalar fallback gives the same bits, small: false
    // that the small-product and few-row paths do.
    internal static unsafe void Run(int m, int n, int k, ReadOnlySpan<float> a, int aRow, int aCol, ReadOnlySpan<float> b, int bRow, int bCol, Span<float> c, int ldc, bool accumulate, bool vectorized, bool small = true)
    {
        fixed (float* pa = a, pb = b, pc = c)
        {
            Run(m, n, k, pa, aRow, aCol, pb, bRow, bCol, pc, ldc, accumulate, vectorized, bias: null, relu: false, small);
        }
    }

    // As above on pointers, with the optional epilogue C = max?(C + bias, 0) applied once C is complete.
    internal static unsafe void Run(int m, int n, int k, float* a, int aRow, int aCol, float* b, int bRow, int bCol, float* c, int ldc, bool accumulate, bool vectorized, float* bias, bool relu, bool small = true)
    {
        if (m == 0 || n == 0)
        {
            return;
        }
        var job = new Job(m, n, k, a, aRow, aCol, b, bRow, bCol, c, ldc, accumulate, vectorized, bias, relu);
        if (k == 0)
        {
            Empty(job);
            return;
        }
        if (small && vectorized && IsSmall(m, n, k))
        {
            Small(job);
            return;
        }
        if (small && vectorized && IsSkinny(m, bCol))
        {
            Skinny(&job);
            return;
        }
        Workers.Run(&RunPart, &job, Workers.ThreadsFor((long)m * n * k, MinimumPartMacs));
    }

    // Part `part` of `parts` computes a range of C's rows, or of its columns when C is wider than tall or has too few
    // rows to share: every part packs all of the other operand, so the split goes across the larger one (Dense's data
    // gradient, 128 × 1568, then packs half of wᵀ per thread instead of all of it). Whole micro-tiles, so no tile
    // straddles two parts.
    private static unsafe void RunPart(void* state, int part, int parts)
    {
        ref readonly var j = ref *(Job*)state;
        if (parts == 1)
        {
            Blocked(j, 0, j.M, 0, j.N);
            return;
        }
        if (j.N < parts * NR || (j.M >= parts * MR && j.M >= j.N))
        {
            var (lo, hi) = Range(j.M, MR, part, parts);
            Blocked(j, lo, hi, 0, j.N);
        }
        else
        {
            var (lo, hi) = Range(j.N, NR, part, parts);
            Blocked(j, 0, j.M, lo, hi);
        }
    }

    /// <summary>The [lo, hi) share of <paramref name="total"/> for one part, cut at multiples of <paramref name="unit"/>.</summary>
    internal static (int Lo, int Hi) Range(int total, int unit, int part, int parts)
    {
        var units = (total + unit - 1) / unit;
        var lo = (int)Math.Min((long)units * part / parts * unit, total);
        var hi = (int)Math.Min((long)units * (part + 1) / parts * unit, total);
        return (lo, hi);
    }

    // k = 0: C is empty sums (0, or unchanged when accumulating), then the epilogue.
    private static unsafe void Empty(in Job j)
    {
        for (var i = 0; i < j.M; i++)
        {
            var row = new Span<float>(j.C + (long)i * j.Ldc, j.N);
            if (!j.Accumulate)
            {
                row.Clear();
            }
            if (j.Bias != null)
            {
                ApplyBias(row, j.Bias, j.Relu);
            }
        }
    }

    private static unsafe void ApplyBias(Span<float> row, float* bias, bool relu)
    {
        for (var col = 0; col < row.Length; col++)
        {
            var v = row[col] + bias[col];
            row[col] = relu && !(v > 0f) ? 0f : v;
        }
    }

    private readonly unsafe struct Job(int m, int n, int k, float* a, int aRow, int aCol, float* b, int bRow, int bCol, float* c, int ldc, bool accumulate, bool vectorized, float* bias, bool relu)
    {
        public readonly int M = m, N = n, K = k, ARow = aRow, ACol = aCol, BRow = bRow, BCol = bCol, Ldc = ldc;
        public readonly float* A = a, B = b, C = c, Bias = bias;
        public readonly bool Accumulate = accumulate, Vectorized = vectorized, Relu = relu;
    }
}

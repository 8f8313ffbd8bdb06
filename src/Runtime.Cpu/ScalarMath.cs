namespace Kiln.Runtime.Cpu;

/// <summary>
/// Scalar functions MathF lacks, for the activations: erf and erfc (exact GELU), expm1 (ELU, softplus′) and log1p
/// (softplus). Each is evaluated in double and rounded once to float. erf and erfc give the float result
/// correctly rounded except within about 1e-9 (relative) of a rounding boundary, so at most 1 ulp from the true value
/// (the tests measure it against an independent float64 oracle); expm1 and log1p are within a few double ulps before
/// rounding, so likewise. Stateless; callable from any thread.
/// </summary>
/// <remarks>
/// |z| &lt; 0.5: the Taylor series erf z = 2/√π Σₙ (−1)ⁿ z²ⁿ⁺¹ / (n!(2n + 1)), n ≤ 8 (truncation below 2e-10 relative).
/// z ≥ 0.5: erfc z = e^−z²·R(t), t = 1/(1 + z/2), R a degree-10 polynomial fitted by weighted least squares to
/// erfc(z)·e^z² on [0.5, 10] (relative error 1.2e-9; past 10, erfc z underflows float and the formula still decays).
/// Negative arguments use erf(−z) = −erf z and erfc(−z) = 2 − erfc z.
/// </remarks>
internal static class ScalarMath
{
    // R(t) coefficients, t⁰ first.
    private static ReadOnlySpan<double> Tail =>
    [
        2.7580787384220829e-06, 0.28200840056636939, 0.28327812258683222, 0.23751602260447754,
        0.22285364597593479, -0.069371001464523685, 0.32631349399623832, -0.5012398978382393,
        0.25556872912675971, -0.026388861468771861, -0.010558074047898339,
    ];

    /// <summary>eˣ − 1 without the cancellation near 0 (Kahan: (u − 1)·x / ln u with u = eˣ rounded).</summary>
    public static double ExpM1(double x)
    {
        var u = Math.Exp(x);
        if (u == 1)
        {
            return x;
        }
        var um1 = u - 1;
        return um1 == -1 || double.IsInfinity(u) ? um1 : um1 * x / Math.Log(u);
    }

    /// <summary>ln(1 + x) without the cancellation near 0 (Kahan: ln u · x / (u − 1) with u = 1 + x rounded).</summary>
    public static double Log1P(double x)
    {
        var u = 1 + x;
        return u == 1 ? x : double.IsInfinity(u) ? Math.Log(u) : Math.Log(u) * x / (u - 1);
    }

    public static float Erf(float z) => (float)Erf((double)z);

    public static float Erfc(float z) => (float)Erfc((double)z);

    public static double Erf(double z)
    {
        var a = Math.Abs(z);
        var e = a < 0.5 ? Series(a) : 1 - TailErfc(a);
        return z < 0 ? -e : e;
    }

    public static double Erfc(double z)
    {
        if (double.IsNaN(z))
        {
            return z;
        }
        var a = Math.Abs(z);
        var e = a < 0.5 ? 1 - Series(a) : TailErfc(a);
        return z < 0 ? 2 - e : e;
    }

    // Terms z²ⁿ⁺¹·(−1)ⁿ/n! accumulate in `power`; each is divided by 2n + 1; smallest terms first.
    private static double Series(double z)
    {
        Span<double> terms = stackalloc double[9];
        var power = z;
        for (var n = 0; n < terms.Length; n++)
        {
            terms[n] = power / (2 * n + 1);
            power *= -z * z / (n + 1);
        }
        var sum = 0.0;
        for (var n = terms.Length - 1; n >= 0; n--)
        {
            sum += terms[n];
        }
        return sum * 1.1283791670955126; // 2/√π
    }

    private static double TailErfc(double z)
    {
        if (z > 27)
        {
            return 0; // e^−z² underflows double; erfc z < 1e-318.
        }
        var t = 1 / (1 + 0.5 * z);
        var r = 0.0;
        for (var k = Tail.Length - 1; k >= 0; k--)
        {
            r = r * t + Tail[k];
        }
        return Math.Exp(-z * z) * r;
    }
}

namespace Kiln.Oracles;

/// <summary>
/// erf and erfc in float64 by textbook series, independent of Kiln's fitted polynomial: |z| &lt; 3 the all-positive series
/// erf z = (2/√π)·e^−z²·Σₙ 2ⁿz²ⁿ⁺¹/(1·3···(2n + 1)) (no cancellation); |z| ≥ 3 the continued fraction
/// erfc z = (e^−z²/√π)·1/(z + (1/2)/(z + 1/(z + (3/2)/(z + …)))), evaluated backwards from 200 levels. Both are accurate
/// to about 1e-15 relative.
/// </summary>
public static class ErfReference
{
    public static double Erf(double z)
    {
        var a = Math.Abs(z);
        var e = a < 3 ? Series(a) : 1 - Fraction(a);
        return z < 0 ? -e : e;
    }

    public static double Erfc(double z)
    {
        var a = Math.Abs(z);
        var e = a < 3 ? 1 - Series(a) : Fraction(a);
        return z < 0 ? 2 - e : e;
    }

    private static double Series(double z)
    {
        double term = z, sum = z;
        for (var n = 1; n < 200 && term > 1e-300; n++)
        {
            term *= 2 * z * z / (2 * n + 1);
            sum += term;
        }
        return 2 / Math.Sqrt(Math.PI) * Math.Exp(-z * z) * sum;
    }

    private static double Fraction(double z)
    {
        var f = z;
        for (var k = 200; k >= 1; k--)
        {
            f = z + k / 2.0 / f;
        }
        return Math.Exp(-z * z) / Math.Sqrt(Math.PI) / f;
    }
}

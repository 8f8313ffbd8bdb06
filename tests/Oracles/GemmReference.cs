using Kiln.Runtime.Cpu;

namespace Kiln.Oracles;

public static class GemmReference
{
    /// <summary>C[i, j] (+)= Σ_p A(i, p)·B(p, j) in double, with the operands given as element accessors.</summary>
    public static double[] Multiply(int m, int n, int k, Func<int, int, double> a, Func<int, int, double> b, double[]? c = null)
    {
        var result = c is null ? new double[m * n] : (double[])c.Clone();
        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j < n; j++)
            {
                var s = 0.0;
                for (var p = 0; p < k; p++)
                {
                    s += a(i, p) * b(p, j);
                }
                result[i * n + j] += s;
            }
        }
        return result;
    }
}

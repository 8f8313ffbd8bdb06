namespace Kiln.Runtime.Cpu.Tests;

internal static class FiniteDifference
{
    /// <summary>∂f/∂x by central differences in double: (f(x + h eᵢ) − f(x − h eᵢ)) / 2h.</summary>
    public static double[] Gradient(Func<double[], double> f, double[] x, double h = 1e-4)
    {
        var g = new double[x.Length];
        var probe = (double[])x.Clone();
        for (var i = 0; i < x.Length; i++)
        {
            probe[i] = x[i] + h;
            var up = f(probe);
            probe[i] = x[i] - h;
            var down = f(probe);
            probe[i] = x[i];
            g[i] = (up - down) / (2 * h);
        }
        return g;
    }
}

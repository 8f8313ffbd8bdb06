namespace Kiln.Runtime.Cpu.Tests;

/// <summary>Random inputs (never zero), NaN-poisoned outputs, float ↔ double.</summary>
internal static class TestData
{
    /// <summary>Uniform in ±[0.05, 1]·scale with random sign: never zero, never tiny.</summary>
    public static float[] Random(int n, int seed, float scale = 1f)
    {
        var rng = new System.Random(seed);
        var v = new float[n];
        for (var i = 0; i < n; i++)
        {
            var magnitude = 0.05f + 0.95f * rng.NextSingle();
            v[i] = (rng.Next(2) == 0 ? -magnitude : magnitude) * scale;
        }
        return v;
    }

    /// <summary>An output buffer filled with NaN, so an element the kernel forgets to write fails the comparison.</summary>
    public static float[] Poisoned(int n) => Enumerable.Repeat(float.NaN, n).ToArray();

    public static double[] ToDouble(ReadOnlySpan<float> v)
    {
        var d = new double[v.Length];
        for (var i = 0; i < v.Length; i++)
        {
            d[i] = v[i];
        }
        return d;
    }

    public static double Dot(double[] a, double[] b)
    {
        var s = 0.0;
        for (var i = 0; i < a.Length; i++)
        {
            s += a[i] * b[i];
        }
        return s;
    }

    public static void BitwiseEqual(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
            {
                Assert.Fail($"{what}: first different bits at [{i}]: {expected[i]:R} vs {actual[i]:R}");
            }
        }
    }
}

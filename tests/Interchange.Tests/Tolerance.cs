namespace Kiln.Interchange.Tests;

/// <summary>The bound: |actual − expected| ≤ 1e-5 + 1e-4·|expected| for every element.</summary>
internal static class Tolerance
{
    public const double Absolute = 1e-5;
    public const double Relative = 1e-4;

    /// <summary>Asserts the bound and returns the largest absolute difference.</summary>
    public static double AssertClose(ReadOnlySpan<double> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        var largest = 0.0;
        for (var i = 0; i < expected.Length; i++)
        {
            var difference = Math.Abs(actual[i] - expected[i]);
            if (!(difference <= Absolute + Relative * Math.Abs(expected[i])))
            {
                Assert.Fail($"{what}: element {i} is {actual[i]:R}, expected {expected[i]:R} (difference {difference:E2}).");
            }
            largest = Math.Max(largest, difference);
        }
        return largest;
    }

    public static double AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        var wide = new double[expected.Length];
        for (var i = 0; i < wide.Length; i++)
        {
            wide[i] = expected[i];
        }
        return AssertClose(wide, actual, what);
    }
}

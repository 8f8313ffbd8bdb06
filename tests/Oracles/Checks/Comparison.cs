using System.Globalization;
using System.Text;

namespace Kiln.Oracles;

/// <summary>
/// How far a GPU result may be from its reference: |gpu − ref| ≤ <see cref="Absolute"/> + <see cref="Relative"/>·|ref|
/// + <see cref="PerMagnitude"/>·S, where S is the sum of the absolute values of the terms that make the element
/// (given per element by the caller, e.g. the CPU kernel run on |inputs|).
/// </summary>
public readonly record struct Tolerance(double Absolute, double Relative, double PerMagnitude = 0)
{
    /// <summary>Element-wise work and short reductions: 1e-5 + 1e-4·|ref|.</summary>
    public static Tolerance Elementwise => new(1e-5, 1e-4);

    /// <summary>Bit-for-bit.</summary>
    public static Tolerance Exact => new(0, 0);

    /// <summary>
    /// A sum of <paramref name="terms"/> products in a different order (tiles, FMA) than the CPU's: the element-wise
    /// bound plus 4·√terms·2⁻²⁴·S. Two orders differ by about 2⁻²⁴·terms·rms(term) in practice; the bound is √terms
    /// above that, while a wrong or missing term costs about S/terms.
    /// </summary>
    public static Tolerance Reduction(long terms) => new(1e-5, 1e-4, 4 * Math.Sqrt(terms) * Math.ScaleB(1.0, -24));

    public override string ToString()
    {
        var text = string.Create(CultureInfo.InvariantCulture, $"{Absolute:G2} + {Relative:G2}·|ref|");
        return PerMagnitude == 0 ? text : text + string.Create(CultureInfo.InvariantCulture, $" + {PerMagnitude:G2}·Σ|terms|");
    }
}

/// <summary>
/// llm.c's validate_result: every element is checked (NaN fails, so an unwritten element of a NaN-poisoned output
/// fails), the scan stops after the first <see cref="MaxMismatches"/> mismatches, and the largest error is kept.
/// </summary>
public sealed class Comparison
{
    public const int MaxMismatches = 10;

    private Comparison(string name, Tolerance tolerance, long compared, double maxError, double worstRatio, IReadOnlyList<string> mismatches)
    {
        Name = name;
        Tolerance = tolerance;
        Compared = compared;
        MaxError = maxError;
        WorstRatio = worstRatio;
        Mismatches = mismatches;
    }

    public string Name { get; }

    public Tolerance Tolerance { get; }

    /// <summary>Elements compared (all of them, unless the scan stopped at <see cref="MaxMismatches"/>).</summary>
    public long Compared { get; }

    /// <summary>max |gpu − ref| over the compared elements (NaN when one was NaN).</summary>
    public double MaxError { get; }

    /// <summary>max |gpu − ref| / allowed: below 1 passes; how close a passing check came to its tolerance.</summary>
    public double WorstRatio { get; }

    /// <summary>"[index] gpu … vs ref …" for the first mismatches.</summary>
    public IReadOnlyList<string> Mismatches { get; }

    public bool Passed => Mismatches.Count == 0;

    public static Comparison Of(string name, ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, Tolerance tolerance, ReadOnlySpan<float> magnitude = default) =>
        Of(name, Widen(actual), Widen(expected), tolerance, Widen(magnitude));

    public static Comparison Of(string name, ReadOnlySpan<float> actual, ReadOnlySpan<double> expected, Tolerance tolerance) =>
        Of(name, Widen(actual), expected, tolerance, default);

    public static Comparison Of(string name, ReadOnlySpan<int> actual, ReadOnlySpan<int> expected) =>
        Of(name, Widen(actual), Widen(expected), Tolerance.Exact, default);

    public static Comparison Of(string name, ReadOnlySpan<double> actual, ReadOnlySpan<double> expected, Tolerance tolerance, ReadOnlySpan<double> magnitude)
    {
        if (actual.Length != expected.Length || (!magnitude.IsEmpty && magnitude.Length != expected.Length))
        {
            throw new ArgumentException($"{name}: {actual.Length} results, {expected.Length} references, {magnitude.Length} magnitudes.");
        }
        var mismatches = new List<string>();
        double maxError = 0, worst = 0;
        var i = 0;
        for (; i < actual.Length && mismatches.Count < MaxMismatches; i++)
        {
            var error = Math.Abs(actual[i] - expected[i]);
            var allowed = tolerance.Absolute + tolerance.Relative * Math.Abs(expected[i]) + (magnitude.IsEmpty ? 0 : tolerance.PerMagnitude * magnitude[i]);
            maxError = double.IsNaN(error) || error > maxError ? error : maxError;
            var ratio = error == 0 ? 0 : allowed == 0 ? double.PositiveInfinity : error / allowed;
            worst = double.IsNaN(ratio) || ratio > worst ? ratio : worst;
            if (!(error <= allowed))
            {
                mismatches.Add(string.Create(CultureInfo.InvariantCulture, $"[{i}] gpu {actual[i]:R} vs ref {expected[i]:R} (|err| {error:G3} > {allowed:G3})"));
            }
        }
        return new Comparison(name, tolerance, i, maxError, worst, mismatches);
    }

    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{(Passed ? "ok  " : "FAIL")} {Name}: max |err| {MaxError:G3} ({WorstRatio:0.000} of tolerance {Tolerance}) over {Compared} elements");
        foreach (var m in Mismatches)
        {
            text.Append("\n       ").Append(m);
        }
        if (Mismatches.Count == MaxMismatches)
        {
            text.Append("\n       (stopped after ").Append(MaxMismatches).Append(" mismatches)");
        }
        return text.ToString();
    }

    private static double[] Widen(ReadOnlySpan<float> values)
    {
        var result = new double[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            result[i] = values[i];
        }
        return result;
    }

    private static double[] Widen(ReadOnlySpan<int> values)
    {
        var result = new double[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            result[i] = values[i];
        }
        return result;
    }
}

using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;

namespace Kiln.Generator.Tests;

/// <summary>
/// Verify-style baselines: <c>Baselines/&lt;Test&gt;/&lt;Name&gt;.verified.txt</c> is checked in; a mismatch writes
/// <c>.received.txt</c> beside it and fails with the first differing line. Set KILN_ACCEPT_SNAPSHOTS=1 to
/// accept received files (refused when CI=true).
/// </summary>
internal static partial class Snapshot
{
    public static void Verify(string test, string name, string actual, [CallerFilePath] string callerFile = "")
    {
        var directory = Path.Combine(Path.GetDirectoryName(callerFile)!, "Baselines", test);
        var verified = Path.Combine(directory, name + ".verified.txt");
        var received = Path.Combine(directory, name + ".received.txt");
        actual = Scrub(actual);
        var expected = File.Exists(verified) ? File.ReadAllText(verified).ReplaceLineEndings("\n") : null;
        if (expected == actual)
        {
            File.Delete(received);
            return;
        }

        Directory.CreateDirectory(directory);
        var accept = Environment.GetEnvironmentVariable("KILN_ACCEPT_SNAPSHOTS") == "1" && Environment.GetEnvironmentVariable("CI") != "true";
        File.WriteAllText(accept ? verified : received, actual);
        if (accept)
        {
            return;
        }
        Assert.Fail(expected is null
            ? $"No baseline for {test}/{name}; review {received} and rename it to .verified.txt."
            : $"{test}/{name} differs from its baseline: {FirstDifference(expected, actual)}. Review {received}.");
    }

    private static string Scrub(string text) => GeneratedCodeVersion().Replace(text.ReplaceLineEndings("\n"), "GeneratedCode(\"Kiln.Generator\", \"{version}\")");

    private static string FirstDifference(string expected, string actual)
    {
        var e = expected.Split('\n');
        var a = actual.Split('\n');
        for (var i = 0; i < Math.Max(e.Length, a.Length); i++)
        {
            var left = i < e.Length ? e[i] : "<end of file>";
            var right = i < a.Length ? a[i] : "<end of file>";
            if (left != right)
            {
                return $"line {i + 1}: expected `{left}` but got `{right}`";
            }
        }
        return "line endings differ";
    }

    [GeneratedRegex("GeneratedCode\\(\"Kiln.Generator\", \"[^\"]*\"\\)")]
    private static partial Regex GeneratedCodeVersion();
}

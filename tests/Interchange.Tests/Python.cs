using System.Diagnostics;

namespace Kiln.Interchange.Tests;

/// <summary>
/// Runs Debian's Python (<c>/usr/bin/python3</c>, or <c>KILN_PYTHON</c>), where python3-onnx and python3-torch live.
/// Thread-safe: each call starts its own process; module probes are cached.
/// </summary>
internal static class Python
{
    public static string Executable => Environment.GetEnvironmentVariable("KILN_PYTHON") ?? "/usr/bin/python3";

    private static readonly Dictionary<string, Lazy<string?>> Missing = new()
    {
        ["onnx"] = new(() => Probe("onnx")),
        ["torch"] = new(() => Probe("torch")),
    };

    /// <summary>Why <paramref name="module"/> cannot be imported, or null when it can.</summary>
    public static string? WhyMissing(string module) => Missing[module].Value;

    /// <summary>Runs <paramref name="script"/> with <paramref name="arguments"/>; fails the test with stderr on a nonzero exit.</summary>
    public static string Run(string script, params string[] arguments)
    {
        var (code, stdout, stderr) = Start(["-c", script, .. arguments]);
        Assert.True(code == 0, $"python exited with {code}:{Environment.NewLine}{stderr}{stdout}");
        return stdout;
    }

    private static string? Probe(string module)
    {
        if (!File.Exists(Executable))
        {
            return $"no {Executable}";
        }
        var (code, _, stderr) = Start(["-c", $"import {module}"]);
        return code == 0 ? null : $"{Executable} cannot import {module}: {stderr.Trim().Split('\n')[^1]}";
    }

    private static (int Code, string Stdout, string Stderr) Start(string[] arguments)
    {
        var start = new ProcessStartInfo(Executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout, stderr.Result);
    }
}

/// <summary>A fact that is skipped, saying why, when Debian's Python lacks <c>module</c>.</summary>
public sealed class PythonFactAttribute : FactAttribute
{
    public PythonFactAttribute(string module)
    {
        if (Python.WhyMissing(module) is { } reason)
        {
            Skip = reason;
        }
    }
}

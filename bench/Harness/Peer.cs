using System.Diagnostics;
using System.Reflection;

/// <summary>
/// Runs the PyTorch peer (bench/pytorch_peer.py) or this harness itself in a child process and reads the last line
/// it prints, <c>key=value</c> pairs. Static; each call starts and waits for its own process.
/// </summary>
internal static class Peer
{
    /// <summary>The peer's result, or null (with a line saying why) when torch is missing or the run failed.</summary>
    public static Dictionary<string, string>? RunPyTorch(string arguments, int threads = 2)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "pytorch_peer.py");
        var python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
        var check = Process.Start(new ProcessStartInfo(python, "-c \"import torch\"") { RedirectStandardError = true });
        check!.WaitForExit();
        if (check.ExitCode != 0)
        {
            Console.WriteLine("PyTorch peer skipped: `python3 -c \"import torch\"` failed.");
            return null;
        }
        var start = new ProcessStartInfo(python, $"\"{script}\" {arguments} --threads {threads}") { RedirectStandardOutput = true };
        start.Environment["OMP_NUM_THREADS"] = threads.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Run(start, "PyTorch peer");
    }

    /// <summary>
    /// This harness, run again with <paramref name="arguments"/> (through dotnet when that is how it runs), seeing
    /// <paramref name="cores"/> cores (Kiln's worker pool sizes itself by <see cref="Environment.ProcessorCount"/>).
    /// </summary>
    public static Dictionary<string, string>? RunSelf(string arguments, int cores)
    {
        var host = Environment.ProcessPath!;
        var start = Path.GetFileNameWithoutExtension(host) == "dotnet"
            ? new ProcessStartInfo(host, $"\"{Assembly.GetEntryAssembly()!.Location}\" {arguments}")
            : new ProcessStartInfo(host, arguments);
        start.RedirectStandardOutput = true;
        start.Environment["DOTNET_PROCESSOR_COUNT"] = cores.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Run(start, "Kiln child");
    }

    private static Dictionary<string, string>? Run(ProcessStartInfo start, string what)
    {
        using var process = Process.Start(start)!;
        var lines = process.StandardOutput.ReadToEnd().Trim().Split('\n');
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            Console.WriteLine($"{what} failed (exit code {process.ExitCode}): {lines.Last()}");
            return null;
        }
        return lines.Last().Split(' ').Select(kv => kv.Split('=', 2)).Where(kv => kv.Length == 2).ToDictionary(kv => kv[0], kv => kv[1]);
    }
}

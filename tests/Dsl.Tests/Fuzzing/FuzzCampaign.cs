using System.Diagnostics;
using System.Globalization;

namespace Kiln.Tests.Fuzzing;

/// <summary>
/// Runs a loader over mutated files and checks each case: it either succeeds or throws one of the documented
/// exception types, within a time bound and an allocation bound (bytes allocated on the calling thread, which is
/// where the loaders allocate). KILN_FUZZ_SCALE multiplies the number of cases for a longer campaign
/// (bench/fuzz.sh), and KILN_FUZZ_REPORT names a file that receives one line of counts per campaign.
/// </summary>
internal static class FuzzCampaign
{
    public static int Scale => int.TryParse(Environment.GetEnvironmentVariable("KILN_FUZZ_SCALE"), CultureInfo.InvariantCulture, out var s) && s > 0 ? s : 1;

    public static void Run(
        string name, byte[] valid, int cases, int seed, Action<string> load, Type[] documented,
        TimeSpan timePerCase, Func<byte[], long> allocationBound, Func<byte[], byte[]>? transform = null)
    {
        var directory = Path.Combine(Path.GetTempPath(), "kiln-fuzz-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var mutator = new Mutator(seed);
        var (accepted, refused, slowest, mostAllocated) = (0, 0, TimeSpan.Zero, 0L);
        var byType = new Dictionary<string, int>();
        var clock = Stopwatch.StartNew();
        try
        {
            for (var i = 0; i < cases * Scale; i++)
            {
                var input = mutator.Mutate(valid);
                var bytes = transform is null ? input : transform(input);
                var path = Path.Combine(directory, $"case-{i}");
                File.WriteAllBytes(path, bytes);
                var before = GC.GetAllocatedBytesForCurrentThread();
                var started = Stopwatch.GetTimestamp();
                try
                {
                    load(path);
                    accepted++;
                }
                catch (Exception e) when (documented.Contains(e.GetType()))
                {
                    refused++;
                    byType[e.GetType().Name] = byType.GetValueOrDefault(e.GetType().Name) + 1;
                    Assert.True(e.Message.Contains(path, StringComparison.Ordinal), $"{name} case {i} (seed {seed}): the message does not name the file: {e.Message}");
                }
                catch (Exception e)
                {
                    Assert.Fail($"{name} case {i} (seed {seed}) threw an undocumented {e.GetType().Name}: {e.Message}{Environment.NewLine}input: {Convert.ToBase64String(input)}");
                }
                var elapsed = Stopwatch.GetElapsedTime(started);
                var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                Assert.True(elapsed <= timePerCase, $"{name} case {i} (seed {seed}) took {elapsed.TotalMilliseconds:0} ms");
                Assert.True(allocated <= allocationBound(bytes), $"{name} case {i} (seed {seed}) allocated {allocated} bytes for a {bytes.Length}-byte file");
                (slowest, mostAllocated) = (elapsed > slowest ? elapsed : slowest, Math.Max(mostAllocated, allocated));
                File.Delete(path);
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
        Assert.True(refused > 0, $"{name}: no mutation was refused, so the campaign tested nothing");
        Report($"{name}: {cases * Scale} cases in {clock.Elapsed.TotalSeconds:0.0} s, {accepted} loaded, {refused} refused ({string.Join(", ", byType.Select(p => $"{p.Key} {p.Value}"))}), 0 undocumented; slowest {slowest.TotalMilliseconds:0.0} ms, most allocated {mostAllocated / 1024.0:0} KiB");
    }

    private static void Report(string line)
    {
        if (Environment.GetEnvironmentVariable("KILN_FUZZ_REPORT") is { Length: > 0 } file)
        {
            lock (typeof(FuzzCampaign))
            {
                File.AppendAllText(file, line + Environment.NewLine);
            }
        }
    }
}

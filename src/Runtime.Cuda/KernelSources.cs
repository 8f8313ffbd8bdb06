using System.Text;

namespace Kiln.Runtime.Cuda;

/// <summary>
/// The CUDA kernel library (Kernels/*.cu), embedded as text. NVRTC has no file system here, so the files use no
/// #include: <see cref="All"/> concatenates them, <c>00_common.cu</c> first, each preceded by a <c>#line 1 "name"</c>
/// directive so NVRTC's diagnostics name the original file and line.
/// </summary>
public static class KernelSources
{
    private const string Prefix = "Kiln.Runtime.Cuda.Kernels.";
    private static readonly Lazy<IReadOnlyList<string>> s_fileNames = new(() =>
        typeof(KernelSources).Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal))
            .Select(n => n[Prefix.Length..])
            .Order(StringComparer.Ordinal)
            .ToArray());
    private static readonly Lazy<string> s_all = new(() => Concatenate(FileNames));

    /// <summary>The file names, in concatenation order (ordinal, so <c>00_common.cu</c> comes first).</summary>
    public static IReadOnlyList<string> FileNames => s_fileNames.Value;

    /// <summary>All files concatenated: the source to give NVRTC.</summary>
    public static string All => s_all.Value;

    /// <summary>One file's text, e.g. <c>Get("dense.cu")</c>.</summary>
    public static string Get(string fileName)
    {
        using var stream = typeof(KernelSources).Assembly.GetManifestResourceStream(Prefix + fileName)
            ?? throw new FileNotFoundException($"No embedded kernel file '{fileName}'; there are: {string.Join(", ", FileNames)}.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <summary><c>00_common.cu</c> followed by the named files (for a program that needs only some layer kinds).</summary>
    public static string Concatenate(IEnumerable<string> fileNames)
    {
        var sb = new StringBuilder();
        var names = fileNames.ToList();
        if (!names.Contains("00_common.cu"))
        {
            names.Insert(0, "00_common.cu");
        }
        foreach (var name in names)
        {
            sb.Append("#line 1 \"").Append(name).Append("\"\n");
            sb.Append(Get(name));
            if (sb[^1] != '\n')
            {
                sb.Append('\n');
            }
        }
        return sb.ToString();
    }
}

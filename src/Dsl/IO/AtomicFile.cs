using System.Security.Cryptography;
using System.Text;

namespace Kiln.IO;

/// <summary>Replaces files so that readers and crashes see either the old content or the new, never a mixture.</summary>
/// <remarks>
/// Thread safety: any number of threads and processes may write, also to the same path; the last rename wins, and a
/// temporary file that another writer holds open is never cleaned up from under it.
/// </remarks>
public static class AtomicFile
{
    // Target names up to this long appear in their temporary file's name; longer ones are replaced by a hash, so the
    // temporary name (at most 1 + 200 + 1 + 12 + 4 = 218 characters) stays within every file system's 255.
    private const int MaxNamedStem = 200;
    private const int RandomHexDigits = 12;
    private static readonly System.Buffers.SearchValues<char> HexDigits = System.Buffers.SearchValues.Create("0123456789abcdef");

    /// <summary>
    /// Runs <paramref name="write"/> on a temporary file in the target's directory (so the rename cannot cross
    /// file systems), flushes it to disk, then renames it over <paramref name="path"/>. If anything throws,
    /// the temporary file is deleted and the previous file is left as it was. Temporary files that an earlier,
    /// killed write to the same path left behind (<c>.name.0123456789ab.tmp</c>) are deleted first.
    /// </summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        var target = Path.GetFullPath(path);
        RefuseSpecialTarget(target);
        var directory = Path.GetDirectoryName(target)!;
        var stem = Stem(Path.GetFileName(target));
        DeleteOrphans(directory, stem);
        var temporary = Path.Combine(directory, $".{stem}.{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(RandomHexDigits / 2))}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 16))
            {
                write(stream);
                // Without this, a crash just after the rename can leave the new name pointing at unwritten blocks.
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, target, overwrite: true);
        }
        catch
        {
            // Checked first: when the directory is missing, Delete would throw and hide the original error.
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }
            throw;
        }
    }

    /// <summary>The part of a temporary file's name that names its target: the name itself, or a hash of a long one.</summary>
    private static string Stem(string name) =>
        name.Length <= MaxNamedStem ? name : "kiln-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name)).AsSpan(0, 8));

    // A write killed before its rename leaves its temporary file; the next write to the path removes it. Files another
    // writer has open are skipped: .NET takes an advisory lock for FileShare.None, which the probe below also asks for.
    // Names from before the 12-digit form (32 hex digits) are recognised too.
    private static void DeleteOrphans(string directory, string stem)
    {
        if (!Directory.Exists(directory))
        {
            return;
        }
        // Filtered here rather than by a search pattern, in which a '*' or '?' of the name would be a wildcard.
        var prefix = $".{stem}.";
        foreach (var candidate in Directory.EnumerateFiles(directory, "*.tmp"))
        {
            var name = Path.GetFileName(candidate.AsSpan());
            if (!name.StartsWith(prefix, StringComparison.Ordinal) || name.Length < prefix.Length + 4)
            {
                continue;
            }
            var middle = name[prefix.Length..^4];
            if ((middle.Length != RandomHexDigits && middle.Length != 32) || middle.ContainsAnyExcept(HexDigits))
            {
                continue;
            }
            try
            {
                using (new FileStream(candidate, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
                {
                }
                File.Delete(candidate);
            }
            catch (IOException)
            {
                // In use by a running write, or gone already.
            }
            catch (UnauthorizedAccessException)
            {
                // Not ours to delete.
            }
        }
    }

    // Renaming over a device or a directory would replace it (as root, /dev/null becomes a plain file), and .NET
    // reports no file type on Unix, so the special trees and directories are refused by name.
    private static void RefuseSpecialTarget(string target)
    {
        string[] special = ["/dev/", "/proc/", "/sys/"];
        if (Directory.Exists(target) || (!OperatingSystem.IsWindows() && special.Any(target.StartsWith)))
        {
            throw new IOException($"'{target}' is not a regular file; Kiln only replaces regular files.");
        }
    }
}

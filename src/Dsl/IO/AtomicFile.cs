namespace Kiln.IO;

/// <summary>Replaces files so that readers and crashes see either the old content or the new, never a mixture.</summary>
public static class AtomicFile
{
    /// <summary>
    /// Runs <paramref name="write"/> on a temporary file in the target's directory (so the rename cannot cross
    /// file systems), flushes it to disk, then renames it over <paramref name="path"/>. If anything throws,
    /// the temporary file is deleted and the previous file is left as it was.
    /// </summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        var target = Path.GetFullPath(path);
        RefuseSpecialTarget(target);
        var temporary = Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.tmp");
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

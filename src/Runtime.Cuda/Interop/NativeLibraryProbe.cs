using System.Runtime.InteropServices;

namespace Kiln.Runtime.Cuda.Interop;

/// <summary>Loads the first of several candidate native libraries and remembers what was tried.</summary>
internal static class NativeLibraryProbe
{
    public static bool TryLoad(IEnumerable<string> candidates, out IntPtr handle, out string loadedFrom, out IReadOnlyList<string> tried)
    {
        var attempts = new List<string>();
        tried = attempts;
        foreach (var candidate in candidates)
        {
            if (Path.IsPathRooted(candidate) && !File.Exists(candidate))
            {
                attempts.Add($"{candidate} (no such file)");
                continue;
            }
            try
            {
                handle = NativeLibrary.Load(candidate);
                loadedFrom = candidate;
                return true;
            }
            catch (DllNotFoundException e)
            {
                attempts.Add($"{candidate} ({Describe(e.Message)})");
            }
            catch (BadImageFormatException e)
            {
                attempts.Add($"{candidate} (not a loadable library: {e.Message})");
            }
        }
        handle = IntPtr.Zero;
        loadedFrom = "";
        return false;
    }

    private static string Describe(string message) =>
        message.Contains("No such file or directory", StringComparison.Ordinal) || message.Contains("cannot find", StringComparison.OrdinalIgnoreCase)
            ? "not found"
            : message;

    public static unsafe void* Export(IntPtr library, string name, string libraryName)
    {
        if (!NativeLibrary.TryGetExport(library, name, out var address))
        {
            throw new EntryPointNotFoundException($"{libraryName} does not export '{name}'; the installed version is too old for Kiln.");
        }
        return (void*)address;
    }

    public static unsafe void* OptionalExport(IntPtr library, string name) =>
        NativeLibrary.TryGetExport(library, name, out var address) ? (void*)address : null;
}

namespace Kiln.Examples;

/// <summary>
/// Where the examples write pictures unless an option names a path: artifacts/examples under the current directory,
/// which the repository's .gitignore ignores when the examples run from its root, as the README runs them.
/// Not for concurrent use with a changing current directory.
/// </summary>
internal static class ExampleOutput
{
    public static string Folder { get; } = Path.Combine("artifacts", "examples");

    /// <summary>The path of <paramref name="name"/> in <see cref="Folder"/>, which is created if missing.</summary>
    public static string PathOf(string name)
    {
        Directory.CreateDirectory(Folder);
        return Path.Combine(Folder, name);
    }
}

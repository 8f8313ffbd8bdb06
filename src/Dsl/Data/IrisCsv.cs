using System.Globalization;

namespace Kiln;

/// <summary>Parses Fisher's Iris table: a header row, then four measurements and a species per line.</summary>
internal static class IrisCsv
{
    private static readonly string[] Header = ["sepal_length", "sepal_width", "petal_length", "petal_width", "species"];

    public static Example[] Parse(TextReader reader, string name, string[] classNames)
    {
        var header = reader.ReadLine();
        if (header is null || !header.Split(',').Select(h => h.Trim()).SequenceEqual(Header, StringComparer.OrdinalIgnoreCase))
        {
            throw new InvalidDataException($"{name} line 1: expected the header '{string.Join(',', Header)}', found '{header}'.");
        }

        var examples = new List<Example>();
        var lineNumber = 1;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            var fields = line.Split(',');
            if (fields.Length != Header.Length)
            {
                throw new InvalidDataException($"{name} line {lineNumber}: expected {Header.Length} comma-separated fields, found {fields.Length}: '{line}'.");
            }
            var features = new float[Header.Length - 1];
            for (var i = 0; i < features.Length; i++)
            {
                if (!float.TryParse(fields[i], NumberStyles.Float, CultureInfo.InvariantCulture, out features[i]) || !float.IsFinite(features[i]))
                {
                    throw new InvalidDataException($"{name} line {lineNumber}: {Header[i]} '{fields[i]}' is not a number.");
                }
            }
            var species = fields[^1].Trim();
            var label = Array.IndexOf(classNames, species);
            if (label < 0)
            {
                throw new InvalidDataException($"{name} line {lineNumber}: unknown species '{species}'; expected one of {string.Join(", ", classNames)}.");
            }
            examples.Add(new Example(features, label));
        }
        return [.. examples];
    }
}

using System.Globalization;
using System.Text;
using Kiln.IO;

namespace Kiln;

/// <summary>
/// Keras' <c>CSVLogger</c>: one row per epoch, <c>epoch</c> (0-based, as Keras writes it) then the logged metrics in
/// name order. The whole file is rewritten atomically after each epoch, so a reader never sees half a row. With
/// <paramref name="append"/>, rows from an earlier file are kept. Thread-safety as <see cref="Callback"/>.
/// </summary>
public sealed class CsvLogger(string path, char separator = ',', bool append = false) : Callback
{
    private readonly StringBuilder _text = new();
    private string[]? _columns;

    public string Path { get; } = !string.IsNullOrWhiteSpace(path) ? path : throw new ArgumentException("A CSV log needs a file path.", nameof(path));

    public override void OnTrainBegin(FitContext context)
    {
        _text.Clear();
        _columns = null;
        if (append && File.Exists(Path))
        {
            var existing = File.ReadAllText(Path);
            _text.Append(existing);
            // Keep the columns of the existing header, as Keras does when appending.
            _columns = existing.Split('\n', 2)[0].TrimEnd('\r').Split(separator).Skip(1).ToArray();
        }
    }

    public override void OnEpochEnd(EpochMetrics logs, FitContext context)
    {
        if (_columns is null)
        {
            _columns = [.. logs.Available().Order(StringComparer.Ordinal)];
            _text.Append("epoch").Append(separator).AppendJoin(separator, _columns).Append('\n');
        }
        _text.Append((logs.Epoch - 1).ToString(CultureInfo.InvariantCulture));
        foreach (var column in _columns)
        {
            _text.Append(separator).Append(logs.Metric(column) is { } v ? v.ToString(CultureInfo.InvariantCulture) : "NA");
        }
        _text.Append('\n');
        var bytes = Encoding.UTF8.GetBytes(_text.ToString());
        AtomicFile.Write(Path, stream => stream.Write(bytes));
    }
}

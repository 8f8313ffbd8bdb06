using System.Globalization;

namespace Kiln.Execution;

/// <summary>Where a batch came from, formatted only when a check fails, so checking a good batch allocates nothing.</summary>
internal readonly struct Where
{
    private readonly string _what;
    private readonly int _epoch;
    private readonly int _step;

    private Where(string what, int epoch, int step) => (_what, _epoch, _step) = (what, epoch, step);

    /// <summary>"epoch 3, step 17".</summary>
    public static Where Training(int epoch, int step) => new("", epoch, step);

    /// <summary>"evaluation, batch 4".</summary>
    public static Where Batch(string what, int step) => new(what, 0, step);

    public static implicit operator Where(string text) => new(text, 0, 0);

    public override string ToString() =>
        _epoch > 0 ? string.Create(CultureInfo.InvariantCulture, $"epoch {_epoch}, step {_step}")
        : _step > 0 ? string.Create(CultureInfo.InvariantCulture, $"{_what}, batch {_step}")
        : _what;
}

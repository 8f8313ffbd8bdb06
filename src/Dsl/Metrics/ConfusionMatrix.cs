using System.Globalization;
using System.Text;

namespace Kiln;

/// <summary>
/// Counts of (true class, predicted class) pairs, with per-class precision, recall and F1 as scikit-learn's
/// <c>classification_report</c> defines them (0 where a ratio has no denominator). Rows are true classes, columns
/// predictions. Immutable once built: safe to read from any thread.
/// </summary>
public sealed class ConfusionMatrix
{
    private readonly long[,] _counts;

    public ConfusionMatrix(ReadOnlySpan<int> labels, ReadOnlySpan<int> predictions, int classes, IReadOnlyList<string>? classNames = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 1);
        if (labels.Length != predictions.Length)
        {
            throw new ArgumentException($"{labels.Length} labels but {predictions.Length} predictions.", nameof(predictions));
        }
        if (classNames is not null && classNames.Count != classes)
        {
            throw new ArgumentException($"{classes} classes need {classes} names, but {classNames.Count} were given.", nameof(classNames));
        }
        _counts = new long[classes, classes];
        for (var i = 0; i < labels.Length; i++)
        {
            if ((uint)labels[i] >= (uint)classes || (uint)predictions[i] >= (uint)classes)
            {
                throw new ArgumentOutOfRangeException(nameof(labels), $"Example {i}: label {labels[i]}, prediction {predictions[i]}; both must be in [0, {classes}).");
            }
            _counts[labels[i], predictions[i]]++;
        }
        Classes = classes;
        Total = labels.Length;
        ClassNames = classNames ?? [.. Enumerable.Range(0, classes).Select(c => c.ToString(CultureInfo.InvariantCulture))];
    }

    public int Classes { get; }
    public long Total { get; }
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Examples of class <paramref name="actual"/> predicted as <paramref name="predicted"/>.</summary>
    public long this[int actual, int predicted] => _counts[actual, predicted];

    public double Accuracy => Total == 0 ? 0 : (double)Enumerable.Range(0, Classes).Sum(c => _counts[c, c]) / Total;

    public double Precision(int c) => Ratio(_counts[c, c], Column(c));
    public double Recall(int c) => Ratio(_counts[c, c], Row(c));
    public double F1(int c) => Ratio(2 * Precision(c) * Recall(c), Precision(c) + Recall(c));

    /// <summary>Examples of class <paramref name="c"/> (scikit-learn's "support").</summary>
    public long Row(int c) => Enumerable.Range(0, Classes).Sum(p => _counts[c, p]);

    private long Column(int c) => Enumerable.Range(0, Classes).Sum(a => _counts[a, c]);

    private static double Ratio(double a, double b) => b == 0 ? 0 : a / b;

    /// <summary>The matrix, then precision, recall, F1 and support per class, as fixed-width text.</summary>
    public override string ToString()
    {
        const string Corner = "true \\ predicted";
        var name = Math.Max(Corner.Length, ClassNames.Max(n => n.Length));
        var cell = Math.Max(ClassNames.Max(n => n.Length), Total.ToString(CultureInfo.InvariantCulture).Length) + 2;
        var text = new StringBuilder();
        text.Append(Corner.PadRight(name + 1));
        foreach (var n in ClassNames)
        {
            text.Append(n.PadLeft(cell));
        }
        text.AppendLine();
        for (var a = 0; a < Classes; a++)
        {
            text.Append(ClassNames[a].PadRight(name + 1));
            for (var p = 0; p < Classes; p++)
            {
                text.Append(_counts[a, p].ToString(CultureInfo.InvariantCulture).PadLeft(cell));
            }
            text.AppendLine();
        }
        text.AppendLine();
        text.Append("class".PadRight(name + 1)).AppendLine(" precision    recall  f1-score   support");
        for (var c = 0; c < Classes; c++)
        {
            text.Append(ClassNames[c].PadRight(name + 1))
                .Append(string.Create(CultureInfo.InvariantCulture, $"{Precision(c),10:0.0000}{Recall(c),10:0.0000}{F1(c),10:0.0000}{Row(c),10}"))
                .AppendLine();
        }
        text.Append("accuracy".PadRight(name + 1)).AppendLine(string.Create(CultureInfo.InvariantCulture, $"{"",20}{Accuracy,10:0.0000}{Total,10}"));
        return text.ToString();
    }
}

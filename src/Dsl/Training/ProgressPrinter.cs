using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Kiln.Training;

/// <summary>
/// Keras' progress line: <c>150/150 ━━━━━━━━━━━━━━━━━━━━ 0s 40us/step - accuracy: 0.9667 - loss: 0.1234</c>.
/// Redrawn in place on a terminal (at most every 50 ms); one line per epoch when output is redirected. The metric is
/// <c>accuracy</c> or a regression's <c>mae</c>, placed in Keras' alphabetical order (accuracy, loss, mae).
/// </summary>
internal sealed class ProgressPrinter(TextWriter output, bool live, bool hasAccuracy)
{
    private const int BarWidth = 20;
    private static readonly long RedrawTicks = Stopwatch.Frequency / 20;
    private long _lastDraw;

    public void BeginEpoch(int epoch, int epochs) => output.WriteLine($"Epoch {epoch}/{epochs}");

    public bool DueForRedraw => live && Stopwatch.GetTimestamp() - _lastDraw >= RedrawTicks;

    public void Redraw(int step, int? steps, TimeSpan elapsed, double loss, double metric)
    {
        _lastDraw = Stopwatch.GetTimestamp();
        var eta = steps is { } total && step > 0 ? TimeSpan.FromTicks(elapsed.Ticks / step * (total - step)) : TimeSpan.Zero;
        output.Write("\r" + Line(step, steps, eta, elapsed, loss, metric, null) + "\u001b[K");
        output.Flush();
    }

    public void EndEpoch(int step, int? steps, TimeSpan elapsed, double loss, double metric, Evaluation? validation)
    {
        var line = Line(step, steps ?? step, elapsed, elapsed, loss, metric, validation);
        output.WriteLine(live ? "\r" + line + "\u001b[K" : line);
        output.Flush();
    }

    private string Line(int step, int? steps, TimeSpan time, TimeSpan elapsed, double loss, double metric, Evaluation? validation)
    {
        var text = new StringBuilder();
        var total = steps?.ToString(CultureInfo.InvariantCulture) ?? "Unknown";
        text.Append(step.ToString(CultureInfo.InvariantCulture).PadLeft(total.Length)).Append('/').Append(total).Append(' ');
        var filled = steps is { } n && n > 0 ? Math.Min(BarWidth, step * BarWidth / n) : 0;
        text.Append('━', filled).Append('─', BarWidth - filled).Append(' ');
        text.Append(Seconds(time)).Append(' ').Append(PerStep(elapsed, step));
        if (hasAccuracy)
        {
            text.Append(" - accuracy: ").Append(Metric(metric));
        }
        text.Append(" - loss: ").Append(Metric(loss));
        if (!hasAccuracy)
        {
            text.Append(" - mae: ").Append(Metric(metric));
        }
        if (validation is not null)
        {
            if (hasAccuracy)
            {
                text.Append(" - val_accuracy: ").Append(Metric(validation.Accuracy));
            }
            text.Append(" - val_loss: ").Append(Metric(validation.Loss));
            if (!hasAccuracy)
            {
                text.Append(" - val_mae: ").Append(Metric(validation.MeanAbsoluteError));
            }
        }
        return text.ToString();
    }

    private static string Seconds(TimeSpan time) => ((long)time.TotalSeconds).ToString(CultureInfo.InvariantCulture) + "s";

    private static string PerStep(TimeSpan elapsed, int steps)
    {
        var microseconds = steps == 0 ? 0 : elapsed.TotalMicroseconds / steps;
        return microseconds switch
        {
            >= 1_000_000 => $"{(microseconds / 1_000_000).ToString("0", CultureInfo.InvariantCulture)}s/step",
            >= 1_000 => $"{(microseconds / 1_000).ToString("0", CultureInfo.InvariantCulture)}ms/step",
            _ => $"{microseconds.ToString("0", CultureInfo.InvariantCulture)}us/step",
        };
    }

    private static string Metric(double value) => value.ToString("0.0000", CultureInfo.InvariantCulture);
}

using System.Globalization;
using System.Text;
using Kiln.Generator.Model;

namespace Kiln.Generator.Emitters;

/// <summary>Keras 3's <c>model.summary()</c> table, computed at compile time.</summary>
internal static class SummaryEmitter
{
    private const int NameWidth = 31;
    private const int ShapeWidth = 22;
    private const int ParamWidth = 13;

    public static string Emit(NetworkModel model)
    {
        var text = new StringBuilder();
        text.Append("Model: \"").Append(model.ClassName).Append("\"\n");
        text.Append(Rule('┏', '━', '┳', '┓'));
        text.Append(Row('┃', "Layer (type)", "Output Shape", "Param #"));
        text.Append(Rule('┡', '━', '╇', '┩'));
        for (var i = 0; i < model.Layers.Count; i++)
        {
            var layer = model.Layers[i];
            var cell = Wrap($"{layer.Name} ({layer.TypeName})");
            text.Append(Row('│', cell[0], layer.Output.ToKeras(), Count(layer.ParameterCount)));
            for (var line = 1; line < cell.Count; line++)
            {
                text.Append(Row('│', cell[line], "", ""));
            }
            text.Append(i + 1 < model.Layers.Count ? Rule('├', '─', '┼', '┤') : Rule('└', '─', '┴', '┘'));
        }
        var trainable = model.TrainableParameterCount;
        var frozen = model.ParameterCount - trainable;
        text.Append(" Total params: ").Append(Count(model.ParameterCount)).Append(" (").Append(Bytes(model.ParameterCount * 4L)).Append(")\n");
        text.Append(" Trainable params: ").Append(Count(trainable)).Append(" (").Append(Bytes(trainable * 4L)).Append(")\n");
        text.Append(" Non-trainable params: ").Append(Count(frozen)).Append(" (").Append(Bytes(frozen * 4L)).Append(')');
        return text.ToString();
    }

    /// <summary>Keras (rich) wraps a long name at spaces, and breaks a word longer than the column.</summary>
    private static System.Collections.Generic.List<string> Wrap(string text)
    {
        var lines = new System.Collections.Generic.List<string>();
        var line = "";
        foreach (var word in text.Split(' '))
        {
            var candidate = line.Length == 0 ? word : line + " " + word;
            if (candidate.Length <= NameWidth)
            {
                line = candidate;
                continue;
            }
            if (line.Length > 0)
            {
                lines.Add(line);
            }
            line = word;
            while (line.Length > NameWidth)
            {
                lines.Add(line.Substring(0, NameWidth));
                line = line.Substring(NameWidth);
            }
        }
        lines.Add(line);
        return lines;
    }

    private static string Rule(char left, char fill, char cross, char right) =>
        left + new string(fill, NameWidth + 2) + cross + new string(fill, ShapeWidth + 2) + cross + new string(fill, ParamWidth + 2) + right + "\n";

    private static string Row(char bar, string name, string shape, string parameters) =>
        $"{bar} {name.PadRight(NameWidth)} {bar} {shape.PadRight(ShapeWidth)} {bar} {parameters.PadLeft(ParamWidth)} {bar}\n";

    private static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>Keras' byte formatting: B, KB, MB, GB with two decimals and 1024 steps.</summary>
    private static string Bytes(long bytes)
    {
        string[] units = ["B", "KB", "MB", "GB"];
        double value = bytes;
        var unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        return value.ToString("F2", CultureInfo.InvariantCulture) + " " + units[unit];
    }
}

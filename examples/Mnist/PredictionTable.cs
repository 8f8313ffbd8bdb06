using System.Globalization;
using Spectre.Console;

namespace Mnist;

/// <summary>The workshop's table: each image's class probabilities and the predicted class.</summary>
internal static class PredictionTable
{
    public static void Print(IReadOnlyList<ShowcaseImage> images, IReadOnlyList<float[]> probabilities)
    {
        // Whole percentages and no outer border keep the table within an 80-column terminal.
        var table = new Table().Border(TableBorder.Minimal).Title("Class probabilities (%)");
        table.AddColumn("image");
        for (var c = 0; c < 10; c++)
        {
            table.AddColumn(new TableColumn(c.ToString(CultureInfo.InvariantCulture)).RightAligned());
        }
        table.AddColumn("predicted");
        for (var i = 0; i < images.Count; i++)
        {
            var p = probabilities[i];
            var best = Array.IndexOf(p, p.Max());
            var cells = new List<string> { Markup.Escape(images[i].Name) };
            cells.AddRange(p.Select((v, c) => (c == best ? "[bold]" : "[grey]") + (v * 100).ToString("0", CultureInfo.InvariantCulture) + "[/]"));
            var verdict = images[i].Label is { } label ? (label == best ? "[green]✓[/]" : "[red]✗[/]") : "[yellow]?[/]";
            cells.Add($"{best} {verdict}");
            table.AddRow(cells.ToArray());
        }
        AnsiConsole.Write(table);
    }
}

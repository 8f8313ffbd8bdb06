using System.CommandLine;
using Kernels;
using Kiln;
using Kiln.Examples;
using SkiaSharp;

var output = new Option<DirectoryInfo>("--out") { Description = "Directory for the PNGs", DefaultValueFactory = _ => new DirectoryInfo(Path.Combine(ExampleOutput.Folder, "kernels")) };
var root = new RootCommand("Applies the workshop's 3×3 image kernels with Kiln's Conv2D to an MNIST digit and a made-up picture.") { output };
root.SetAction(r => Run(r.GetValue(output)!));
return root.Parse(args).Invoke();

static int Run(DirectoryInfo directory)
{
    directory.Create();
    Console.WriteLine("Edges: 'same' padding with zeros beyond the border, as in the workshop; kernels are cross-correlated (not flipped), as Conv2D does.");
    var digit = Datasets.Mnist().Test.First();
    var images = new (string Name, float[] Pixels, int Height, int Width)[]
    {
        ($"mnist-digit-{digit.Label}", digit.Features, 28, 28),
        ("picture", TestPicture.Create(), TestPicture.Size, TestPicture.Size),
    };
    foreach (var (name, pixels, height, width) in images)
    {
        var panels = new List<(string, float[])> { ("original", pixels) };
        foreach (var filter in ImageFilters.Workshop)
        {
            var response = ImageFilters.Apply(pixels, height, width, filter);
            panels.Add((filter.Name, ImageFilters.ForDisplay(response, filter.SignedResponse)));
        }
        var path = Path.Combine(directory.FullName, name + ".png");
        SaveSheet(path, panels, height, width);
        Console.WriteLine($"Wrote {path}: original and {ImageFilters.Workshop.Count} filtered versions.");
    }
    return 0;
}

static void SaveSheet(string path, List<(string Name, float[] Pixels)> panels, int height, int width)
{
    var scale = Math.Max(1, 256 / Math.Max(height, width));
    var cell = new SKSizeI(width * scale, height * scale);
    using var surface = SKSurface.Create(new SKImageInfo(panels.Count * (cell.Width + 10) + 10, cell.Height + 40));
    surface.Canvas.Clear(SKColors.White);
    using var font = CaptionTypeface.Value is { } typeface ? new SKFont(typeface, 14) : null;
    using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
    for (var i = 0; i < panels.Count; i++)
    {
        using var bitmap = new SKBitmap(width, height, SKColorType.Gray8, SKAlphaType.Opaque);
        for (var p = 0; p < height * width; p++)
        {
            var v = (byte)Math.Clamp(MathF.Round(panels[i].Pixels[p] * 255f), 0, 255);
            bitmap.SetPixel(p % width, p / width, new SKColor(v, v, v));
        }
        using var image = SKImage.FromBitmap(bitmap);
        var x = 10 + i * (cell.Width + 10);
        surface.Canvas.DrawImage(image, SKRect.Create(x, 10, cell.Width, cell.Height), new SKSamplingOptions(SKFilterMode.Nearest));
        if (font is not null)
        {
            surface.Canvas.DrawText(panels[i].Name, x, cell.Height + 30, font, ink);
        }
    }
    using var png = surface.Snapshot().Encode(SKEncodedImageFormat.Png, 100);
    Kiln.IO.AtomicFile.Write(path, stream => png.SaveTo(stream));
}

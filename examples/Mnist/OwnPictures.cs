using Kiln;
using SkiaSharp;

namespace Mnist;

/// <summary>
/// <c>--predict FILE...</c>: asks the trained network about the user's own pictures, prints the workshop's table row
/// for each, and writes what the network saw (the prepared 28×28 digit) as PNGs into the output folder.
/// </summary>
internal static class OwnPictures
{
    /// <summary>Where the prepared digits go unless <c>--predict-output</c> says otherwise: artifacts/examples/mnist-predict, git-ignored.</summary>
    public static readonly string DefaultOutput = Path.Combine(Kiln.Examples.ExampleOutput.Folder, "mnist-predict");

    /// <summary>Prepares each file; a file that cannot be read or shows no digit fails the run, naming the file.</summary>
    public static IReadOnlyList<ShowcaseImage> Prepare(IEnumerable<string> paths) =>
        [.. paths.Select(path => new ShowcaseImage(Path.GetFileName(path), DigitPicture.Load(path), null))];

    /// <summary>Classifies the prepared pictures, prints the table and writes one PNG per picture plus a grid; returns the files written.</summary>
    public static IReadOnlyList<string> Run(Network net, IReadOnlyList<ShowcaseImage> pictures, string outputDirectory)
    {
        var probabilities = pictures.Select(p => net.Predict(p.Pixels)).ToList();
        PredictionTable.Print(pictures, probabilities);
        Directory.CreateDirectory(outputDirectory);
        var written = new List<string>();
        foreach (var picture in pictures)
        {
            var path = Path.Combine(outputDirectory, Path.GetFileNameWithoutExtension(picture.Name) + ".28x28.png");
            SaveDigit(path, picture.Pixels);
            written.Add(path);
        }
        var grid = Path.Combine(outputDirectory, "predictions.png");
        Pictures.SaveGrid(grid, pictures, probabilities);
        written.Add(grid);
        return written;
    }

    /// <summary>The 28×28 input exactly as the network saw it, one PNG pixel per input value.</summary>
    public static void SaveDigit(string path, ReadOnlySpan<float> pixels)
    {
        using var bitmap = new SKBitmap(DigitPicture.Size, DigitPicture.Size, SKColorType.Gray8, SKAlphaType.Opaque);
        var bytes = new byte[DigitPicture.Size * DigitPicture.Size];
        for (var p = 0; p < bytes.Length; p++)
        {
            bytes[p] = (byte)Math.Clamp(MathF.Round(pixels[p] * 255f), 0, 255);
        }
        System.Runtime.InteropServices.Marshal.Copy(bytes, 0, bitmap.GetPixels(), bytes.Length);
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        Kiln.IO.AtomicFile.Write(path, stream => data.SaveTo(stream));
    }
}

using System.CommandLine;
using System.CommandLine.Parsing;
using Colours;
using Kiln.Images;

var data = new Option<DirectoryInfo>("--data") { Description = "An image folder: one subfolder of pictures (PNG, JPEG, BMP, GIF, WebP) per class, at most 10 classes" };
var demo = new Option<DirectoryInfo>("--demo") { Description = "First write a demo folder of coloured MNIST digits (0–4, 200 each) here, then train on it" };
var epochs = new Option<int>("--epochs") { Description = "Training epochs", DefaultValueFactory = _ => 5 };
var split = new Option<double>("--validation-split") { Description = "Fraction of the pictures held back for validation", DefaultValueFactory = _ => 0.2 };
var seed = new Option<int>("--seed") { Description = "Seed for the weights, the split, the shuffle and the augmentation", DefaultValueFactory = _ => 1 };
var augment = new Option<bool>("--augment") { Description = "Augment the training pictures (small turns, shifts, zoom, contrast)" };
data.AcceptExistingOnly();
epochs.Validators.Add(r => { if (r.GetValueOrDefault<int>() < 1) r.AddError("--epochs must be 1 or more."); });
split.Validators.Add(r => { if (r.GetValueOrDefault<double>() is not (>= 0 and < 1)) r.AddError("--validation-split must lie in [0, 1)."); });

var root = new RootCommand("Trains a small 32×32 colour CNN on a folder of pictures, one subfolder per class.") { data, demo, epochs, split, seed, augment };
root.Validators.Add(r =>
{
    if (r.GetValue(data) is null && r.GetValue(demo) is null)
    {
        r.AddError("Give --data FOLDER, or --demo FOLDER to make and use a folder of coloured digits.");
    }
});
root.SetAction(r =>
{
    try
    {
        var directory = r.GetValue(data)?.FullName;
        if (r.GetValue(demo) is { } target)
        {
            ColouredDigits.Write(target.FullName, classes: 5, perClass: 200, r.GetValue(seed));
            Console.WriteLine($"Wrote 1,000 coloured digits to {target.FullName}.");
            directory ??= target.FullName;
        }
        var folder = ImageFolder.Open(directory!, ColourTraining.Options(r.GetValue(split), r.GetValue(seed)));
        Console.WriteLine($"{folder.FileCount:N0} pictures of {folder.ClassNames.Count} classes ({string.Join(", ", folder.ClassNames)}), " +
            $"{folder.Validation?.Count ?? 0:N0} held back for validation; {folder.SkippedFiles.Count} other files skipped.");
        Console.WriteLine(ColourCnn.Summary);
        using var net = new ColourCnn(r.GetValue(seed));
        ColourTraining.Train(net, folder, r.GetValue(epochs), r.GetValue(seed), r.GetValue(augment), verbose: true);
        return 0;
    }
    catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 1;
    }
});
var parsed = root.Parse(args);
if (parsed.Action is System.CommandLine.Invocation.ParseErrorAction onError)
{
    onError.ShowHelp = false;
}
return parsed.Invoke();

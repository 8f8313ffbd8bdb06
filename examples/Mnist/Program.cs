using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using Kiln;
using Kiln.Images;
using Mnist;

var epochs = new Option<int>("--epochs") { Description = "Training epochs (0: only evaluate)", DefaultValueFactory = _ => 1 };
var batch = new Option<int>("--batch") { Description = "Batch size", DefaultValueFactory = _ => 128 };
var invert = new Option<bool>("--invert") { Description = "Train (and test) on the digits and their colour-inverted twins, as the workshop does" };
var data = new Option<DirectoryInfo>("--data") { Description = "A directory with the four MNIST IDX files (raw or .gz); the embedded 10,000-digit subset by default" };
var seed = new Option<int>("--seed") { Description = "Seed for the weights, the shuffle and dropout", DefaultValueFactory = _ => 1 };
var save = new Option<FileInfo>("--save") { Description = "Save the trained weights (safetensors)" };
var onnx = new Option<FileInfo>("--onnx") { Description = "Export the trained network as an ONNX model (serve it with ONNX Runtime)" };
var load = new Option<FileInfo>("--load") { Description = "Load weights instead of starting from random ones" };
var plot = new Option<FileInfo>("--plot") { Description = "Write loss and accuracy curves per epoch to this PNG" };
var grid = new Option<FileInfo>("--grid") { Description = "Write the showcase images with their predictions to this PNG", DefaultValueFactory = _ => new FileInfo(Kiln.Examples.ExampleOutput.PathOf("mnist-predictions.png")) };
var confusion = new Option<FileInfo>("--confusion") { Description = "Write the test set's confusion matrix as a heat map to this PNG", DefaultValueFactory = _ => new FileInfo(Kiln.Examples.ExampleOutput.PathOf("mnist-confusion.png")) };
var predict = new Option<FileInfo[]>("--predict") { Description = "Classify your own pictures of digits (PNG, JPEG, BMP, GIF, WebP) after training or --load", AllowMultipleArgumentsPerToken = true };
var predictOutput = new Option<DirectoryInfo>("--predict-output") { Description = "Folder for the 28×28 digits the network saw", DefaultValueFactory = _ => new DirectoryInfo(OwnPictures.DefaultOutput) };
var augment = new Option<bool>("--augment") { Description = "Train the workshop CNN twice, plain and with rotation, shift, zoom and brightness, and compare them on normal, inverted and rotated test digits" };
var quiet = new Option<bool>("--quiet") { Description = "No per-epoch progress" };
var network = new Option<string>("--network")
{
    Description = "workshop (the workshop CNN), modern (Conv-BatchNorm-ReLU blocks, global average pooling) or both, compared",
    DefaultValueFactory = _ => "workshop",
};
network.AcceptOnlyFromAmong("workshop", "modern", "both");
var device = new Option<Device>("--device")
{
    Description = "cpu, cuda, cuda:N or auto",
    DefaultValueFactory = _ => Device.Cpu,
    CustomParser = result =>
    {
        try
        {
            return Device.Parse(result.Tokens.Single().Value);
        }
        catch (FormatException e)
        {
            result.AddError(e.Message);
            return default;
        }
    },
};

// Option validators run only for options given on the command line; a command validator would see 0 for
// an option left at its default, so each check sits on its own option.
epochs.Validators.Add(r => { if (r.GetValueOrDefault<int>() < 0) r.AddError("--epochs must be 0 or more."); });
batch.Validators.Add(r => { if (r.GetValueOrDefault<int>() <= 0) r.AddError("--batch must be positive."); });
load.Validators.Add(r =>
{
    // File.Exists is false for a directory too, which would otherwise fail later as "access denied".
    if (r.GetValueOrDefault<FileInfo>() is { } file && !File.Exists(file.FullName))
    {
        r.AddError($"--load: there is no file '{file.FullName}'.");
    }
});
data.AcceptExistingOnly();
predict.AcceptExistingOnly();
foreach (var output in new[] { save, onnx, plot, grid, confusion })
{
    // Checked before training so that a typo does not cost the trained weights.
    output.Validators.Add(r =>
    {
        if (r.GetValueOrDefault<FileInfo>() is { Directory: { Exists: false } directory })
        {
            r.AddError($"{r.Option.Name}: directory '{directory.FullName}' does not exist.");
        }
    });
}

var root = new RootCommand("Trains the workshop's MNIST CNN and shows what it predicts for digits, inverted digits and noise.")
{
    epochs, batch, invert, data, seed, save, onnx, load, plot, grid, confusion, quiet, device, network, predict, predictOutput, augment,
};
root.SetAction(r => Run(new Settings(r.GetValue(epochs), r.GetValue(batch), r.GetValue(invert), r.GetValue(data), r.GetValue(seed),
    r.GetValue(save), r.GetValue(onnx), r.GetValue(load), r.GetValue(plot), r.GetValue(grid), r.GetValue(confusion), r.GetValue(quiet), r.GetValue(device), r.GetValue(network)!),
    new ImageSettings([.. (r.GetValue(predict) ?? []).Select(f => f.FullName)], r.GetValue(predictOutput)!.FullName, r.GetValue(augment))));
var parsed = root.Parse(args);
if (parsed.Action is ParseErrorAction onError)
{
    // The error alone says what to fix; --help shows the options.
    onError.ShowHelp = false;
}
return parsed.Invoke();

static int Run(Settings s, ImageSettings images)
{
    try
    {
        if (images.Augment)
        {
            return CompareAugmentation(s);
        }
        // Read before training, so that a bad picture is reported before minutes are spent.
        var own = new OwnPictureRequest(OwnPictures.Prepare(images.Predict), images.PredictOutput);
        if (s.Network != "both")
        {
            return Train(s, s.Network == "modern" ? Modern : Workshop, own, out _);
        }
        // The same data, seed and epochs for both; files the user named are written for the modern network only.
        var workshopCode = Train(s with { Save = null, Onnx = null, Plot = null, Grid = null, Confusion = null, Load = null }, Workshop, own, out var workshop);
        Console.WriteLine();
        Accuracies? modern = null;
        var modernCode = workshopCode == 0 ? Train(s, Modern, own, out modern) : workshopCode;
        if (modernCode == 0)
        {
            Console.WriteLine();
            Console.WriteLine($"{"network",-10} {"params",8} {"normal",8} {"inverted",9}");
            foreach (var (name, result) in new[] { ("workshop", workshop!), ("modern", modern!) })
            {
                Console.WriteLine($"{name,-10} {result.Parameters,8:N0} {result.Normal,8:0.0000} {result.Inverted,9:0.0000}");
            }
        }
        return modernCode;
    }
    catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
    {
        // A missing, unreadable or damaged file is the user's to fix: say what is wrong, without a stack trace.
        Console.Error.WriteLine($"error: {e.Message}");
        return 1;
    }
}

static Network Workshop(int seed, Device device) => new MnistCnn(seed, device);
static Network Modern(int seed, Device device) => new ModernCnn(seed, device);

static int CompareAugmentation(Settings s)
{
    var mnist = s.Data is null ? Datasets.Mnist() : Datasets.Mnist(s.Data.FullName);
    var train = s.Invert ? mnist.Train.Concatenate(mnist.Train.Map(Datasets.Invert)) : mnist.Train;
    AugmentComparison.Print(AugmentComparison.Run(train, mnist, Math.Max(s.Epochs, 1), s.Batch, s.Seed, s.Device, s.Quiet));
    return 0;
}

static int Train(Settings s, Func<int, Device, Network> create, OwnPictureRequest own, out Accuracies? result)
{
    result = null;

    var mnist = s.Data is null ? Datasets.Mnist() : Datasets.Mnist(s.Data.FullName);
    var train = mnist.Train;
    var test = mnist.Test;
    var invertedTest = test.Map(Datasets.Invert);
    if (s.Invert)
    {
        train = train.Concatenate(train.Map(Datasets.Invert));
        test = test.Concatenate(invertedTest);
    }
    Network net;
    try
    {
        net = create(s.Seed, s.Device);
    }
    catch (InvalidOperationException e)
    {
        // The requested GPU is not usable; the message says why.
        Console.Error.WriteLine($"error: {e.Message}");
        return 1;
    }
    using (net)
    {
        Console.WriteLine(net.Info.Summary);
        Console.WriteLine();
        if (s.Load is not null)
        {
            net.Load(s.Load.FullName);
            Console.WriteLine($"Loaded weights from {s.Load.FullName}.");
        }
        if (s.Epochs > 0)
        {
            Console.WriteLine($"Training on {train.Count:N0} images, validating on {test.Count:N0}{(s.Invert ? " (each with its colour-inverted twin)" : "")}.");
            // A buffer as large as the set gives a uniform permutation; a smaller one would keep the inverted
            // twins, which Concatenate puts last, together at the end of each epoch.
            var shuffled = train.Cache().Shuffle((int)train.Count!.Value, s.Seed);
            var history = net.Fit(shuffled.Batch(s.Batch).Prefetch(), s.Epochs,
                validation: test.Cache().Batch(512), options: new FitOptions { Verbose = !s.Quiet });
            if (s.Plot is not null)
            {
                Pictures.SaveCurves(s.Plot.FullName, history);
                Console.WriteLine($"Wrote training curves to {s.Plot.FullName}.");
            }
        }
        if (s.Save is not null)
        {
            net.Save(s.Save.FullName);
            Console.WriteLine($"Saved weights to {s.Save.FullName}.");
        }
        if (s.Onnx is not null)
        {
            net.ExportOnnx(s.Onnx.FullName, [.. Enumerable.Range(0, 10).Select(d => d.ToString(System.Globalization.CultureInfo.InvariantCulture))]);
            Console.WriteLine($"Exported the network to {s.Onnx.FullName} (ONNX).");
        }

        var normal = net.Evaluate(mnist.Test.Batch(512));
        var inverted = net.Evaluate(invertedTest.Batch(512));
        Console.WriteLine($"Test accuracy: {normal.Accuracy:0.0000} - loss: {normal.Loss:0.0000} (normal digits)");
        Console.WriteLine($"Test accuracy: {inverted.Accuracy:0.0000} - loss: {inverted.Loss:0.0000} (inverted digits)");
        result = new Accuracies(net.Info.ParameterCount, normal.Accuracy, inverted.Accuracy);
        Console.WriteLine();
        Console.WriteLine("Confusion matrix of the test set (normal digits):");
        var matrix = net.ConfusionMatrix(mnist.Test.Batch(512));
        Console.WriteLine(matrix);
        if (s.Confusion is not null)
        {
            matrix.SavePng(s.Confusion.FullName);
            Console.WriteLine($"Wrote the confusion matrix as a heat map to {s.Confusion.FullName}.");
        }

        var showcase = Showcase.Build(mnist.Test, s.Seed);
        var probabilities = showcase.Select(image => net.Predict(image.Pixels)).ToList();
        PredictionTable.Print(showcase, probabilities);
        if (s.Grid is not null)
        {
            Pictures.SaveGrid(s.Grid.FullName, showcase, probabilities);
            Console.WriteLine($"Wrote the images with their predictions to {s.Grid.FullName}.");
        }
        if (own.Pictures.Count > 0)
        {
            Console.WriteLine();
            var written = OwnPictures.Run(net, own.Pictures, own.OutputDirectory);
            Console.WriteLine($"Wrote what the network saw to {own.OutputDirectory} ({string.Join(", ", written.Select(Path.GetFileName))}).");
        }
    }
    return 0;
}

internal sealed record ImageSettings(string[] Predict, string PredictOutput, bool Augment);

internal sealed record OwnPictureRequest(IReadOnlyList<ShowcaseImage> Pictures, string OutputDirectory);

internal sealed record Settings(int Epochs, int Batch, bool Invert, DirectoryInfo? Data, int Seed, FileInfo? Save, FileInfo? Onnx, FileInfo? Load,
    FileInfo? Plot, FileInfo? Grid, FileInfo? Confusion, bool Quiet, Device Device, string Network);

internal sealed record Accuracies(int Parameters, double Normal, double Inverted);

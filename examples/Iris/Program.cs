using System.CommandLine;
using Iris;
using Kiln;

var deviceOption = new Option<string>("--device") { Description = "cpu, cuda, cuda:N or auto", DefaultValueFactory = _ => "cpu" };
var seedOption = new Option<int>("--seed") { Description = "Seed for the split, the shuffle and the initial weights", DefaultValueFactory = _ => 1 };
var epochsOption = new Option<int>("--epochs") { Description = "Training epochs of 150 steps", DefaultValueFactory = _ => 10 };
var quietOption = new Option<bool>("--quiet") { Description = "No per-epoch progress" };
var root = new RootCommand("Trains the workshop's Iris network and classifies three flowers.") { deviceOption, seedOption, epochsOption, quietOption };
root.SetAction(result => Run(Device.Parse(result.GetValue(deviceOption)!), result.GetValue(seedOption), result.GetValue(epochsOption), result.GetValue(quietOption)));
return root.Parse(args).Invoke();

static int Run(Device device, int seed, int epochs, bool quiet)
{
    Console.WriteLine(IrisNet.Summary);
    Console.WriteLine();

    var (train, test) = Datasets.Iris().Split(testFraction: 0.25, seed: seed);
    Console.WriteLine($"Training on {train.Count} flowers, testing on {test.Count}.");
    using var net = new IrisNet(seed, device);
    net.Fit(train.Repeat().Shuffle(1000, seed).Batch(32), epochs, stepsPerEpoch: 150,
        validation: test.Batch(32), optimizer: new Adam(), options: new FitOptions { Verbose = !quiet });

    var evaluation = net.Evaluate(test.Batch(32));
    Console.WriteLine($"Test accuracy: {evaluation.Accuracy:0.0000} - loss: {evaluation.Loss:0.0000}");
    Console.WriteLine();

    (float[] Flower, string Expected)[] flowers =
    [
        ([5.1f, 3.3f, 1.7f, 0.5f], "setosa"),
        ([5.9f, 3.0f, 4.2f, 1.5f], "versicolor"),
        ([6.9f, 3.1f, 5.4f, 2.1f], "virginica"),
    ];
    var wrong = 0;
    foreach (var (flower, expected) in flowers)
    {
        var probabilities = net.Predict(flower);
        var best = Array.IndexOf(probabilities, probabilities.Max());
        var predicted = Datasets.IrisClassNames[best];
        var ok = predicted == expected;
        wrong += ok ? 0 : 1;
        Console.WriteLine($"{(ok ? "✓" : "✗")} Prediction is '{predicted}' ({probabilities[best] * 100:0.0}%), expected '{expected}'");
    }
    return wrong == 0 ? 0 : 1;
}

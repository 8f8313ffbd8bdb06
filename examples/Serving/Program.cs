using System.Net;
using Iris;
using Kiln;
using Serving;

// Serves the Iris network over HTTP on the loopback interface only:
//   dotnet run --project examples/Serving                       trains Iris (about a second), then serves
//   dotnet run --project examples/Serving -- iris.safetensors   serves saved weights
//   … -- --save iris.safetensors                                trains, saves the weights, then serves
//   … -- --port 5080                                            the port (0: any free one, printed)
// POST /predict {"features":[5.1,3.3,1.7,0.5]} answers {"probabilities":[…],"species":"setosa"}; several flowers
// may be sent at once as 4·n features. GET /health says what is served.
var options = ServingOptions.Parse(args);
var net = LoadOrTrain(options);

var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, options.Port));
builder.Services.ConfigureHttpJsonOptions(json => json.SerializerOptions.TypeInfoResolverChain.Insert(0, ServingJson.Default));
var app = builder.Build();
app.Lifetime.ApplicationStopped.Register(net.Dispose);

// Network.Predict is safe from any number of threads: each request runs on a pooled executor of its own.
app.MapPost("/predict", (PredictRequest request) => Predictions.Answer(net, request));
app.MapGet("/health", () => new Health(IrisNet.InputSize, IrisNet.OutputSize, net.DeviceName, options.Weights ?? "trained at start-up"));

await app.StartAsync();
Console.WriteLine($"Serving IrisNet on {string.Join(", ", app.Urls)} (loopback only); Ctrl+C stops.");
await app.WaitForShutdownAsync();
return 0;

static IrisNet LoadOrTrain(ServingOptions options)
{
    var net = new IrisNet(seed: 1);
    if (options.Weights is { } path)
    {
        net.Load(path);
        Console.WriteLine($"Loaded '{path}'.");
        return net;
    }
    var (train, test) = Datasets.Iris().Split(testFraction: 0.25, seed: 1);
    net.Fit(train.Repeat().Shuffle(1000, seed: 1).Batch(32), epochs: 10, stepsPerEpoch: 150, optimizer: new Adam(), options: new FitOptions { Verbose = false });
    Console.WriteLine($"Trained on {train.Count} flowers: test accuracy {net.Evaluate(test.Batch(32)).Accuracy:0.0000}.");
    if (options.Save is { } save)
    {
        net.Save(save);
        Console.WriteLine($"Saved the weights to '{save}'.");
    }
    return net;
}

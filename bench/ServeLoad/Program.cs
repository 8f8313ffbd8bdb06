using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Kiln;

// Load test for examples/Serving on loopback: N clients send M requests each, one flower per request, and every
// answer is compared bit for bit with a serial Predict of the same weights in this process. Bounded in requests and
// in time. bench/serve-load.sh starts the server and runs this against it.
var url = new Option<string>("--url") { DefaultValueFactory = _ => "http://127.0.0.1:5080" };
var weights = new Option<FileInfo>("--weights") { Description = "The weights the server was started with", Required = true };
var clients = new Option<int>("--clients") { DefaultValueFactory = _ => 8 };
var requests = new Option<int>("--requests") { Description = "Requests per client", DefaultValueFactory = _ => 10_000 };
var timeout = new Option<int>("--timeout") { Description = "Seconds before the run stops, finished or not", DefaultValueFactory = _ => 300 };
var root = new RootCommand("Load test for examples/Serving") { url, weights, clients, requests, timeout };
root.SetAction((r, _) => Run(new Uri(r.GetValue(url)!), r.GetValue(weights)!, r.GetValue(clients), r.GetValue(requests), TimeSpan.FromSeconds(r.GetValue(timeout))));
return await root.Parse(args).InvokeAsync();

static async Task<int> Run(Uri server, FileInfo weightsFile, int clientCount, int requestsPerClient, TimeSpan limit)
{
    if (!server.IsLoopback)
    {
        Console.Error.WriteLine($"{server} is not a loopback address; this load test only runs on loopback.");
        return 2;
    }
    using var reference = new IrisNet(seed: 1);
    reference.Load(weightsFile.FullName);
    var inputs = Inputs();
    var expected = inputs.Select(x => reference.Predict(x)).ToArray();
    var bodies = inputs.Select(x => "{\"features\":[" + string.Join(',', x.Select(v => v.ToString("R", CultureInfo.InvariantCulture))) + "]}").ToArray();

    using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clientCount }) { BaseAddress = server, Timeout = TimeSpan.FromSeconds(30) };
    await WaitForServer(http);
    using var stop = new CancellationTokenSource(limit);
    var results = new ClientResult[clientCount];
    var clock = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, clientCount).Select(async c =>
    {
        var result = results[c] = new ClientResult(requestsPerClient);
        for (var r = 0; r < requestsPerClient && !stop.IsCancellationRequested; r++)
        {
            var i = (c * 7919 + r) % inputs.Length;
            var started = Stopwatch.GetTimestamp();
            try
            {
                using var content = new StringContent(bodies[i], Encoding.UTF8, new MediaTypeHeaderValue("application/json"));
                using var response = await http.PostAsync("/predict", content, stop.Token);
                var text = await response.Content.ReadAsStringAsync(stop.Token);
                result.Latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                if (!response.IsSuccessStatusCode)
                {
                    result.Errors++;
                    continue;
                }
                using var json = JsonDocument.Parse(text);
                var row = json.RootElement.GetProperty("probabilities")[0].EnumerateArray().Select(v => v.GetSingle()).ToArray();
                result.Wrong += row.AsSpan().SequenceEqual(expected[i]) ? 0 : 1;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (HttpRequestException)
            {
                result.Errors++;
            }
        }
    }));
    clock.Stop();

    var latencies = results.SelectMany(r => r.Latencies).Order().ToArray();
    var done = latencies.Length;
    var planned = (long)clientCount * requestsPerClient;
    Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}; server {server}");
    Console.WriteLine("| clients × requests | completed | requests/s | p50 ms | p99 ms | wrong answers | errors | wall s |");
    Console.WriteLine("|---|---|---|---|---|---|---|---|");
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {clientCount} × {requestsPerClient:N0} | {done:N0} of {planned:N0} | {done / clock.Elapsed.TotalSeconds:N0} | {Percentile(latencies, 0.50):0.00} | {Percentile(latencies, 0.99):0.00} | {results.Sum(r => r.Wrong)} | {results.Sum(r => r.Errors)} | {clock.Elapsed.TotalSeconds:0.0} |"));
    return done == planned && results.All(r => r.Wrong == 0 && r.Errors == 0) ? 0 : 1;
}

// The 150 flowers and 850 jittered copies: distinct inputs, so a mixed-up answer cannot match by chance.
static float[][] Inputs()
{
    var flowers = Datasets.Iris().Select(e => e.Features).ToList();
    var random = new Random(1);
    var jittered = Enumerable.Range(0, 850).Select(i => flowers[i % flowers.Count].Select(v => v + (float)(random.NextDouble() - 0.5) * 0.4f).ToArray());
    return [.. flowers, .. jittered];
}

static async Task WaitForServer(HttpClient http)
{
    for (var attempt = 0; ; attempt++)
    {
        try
        {
            using var response = await http.GetAsync("/health");
            if (response.IsSuccessStatusCode)
            {
                return;
            }
        }
        catch (HttpRequestException) when (attempt < 120)
        {
        }
        await Task.Delay(500);
    }
}

static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];

internal sealed class ClientResult(int capacity)
{
    public List<double> Latencies { get; } = new(capacity);
    public int Wrong { get; set; }
    public int Errors { get; set; }
}

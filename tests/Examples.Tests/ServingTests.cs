using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Iris;
using Kiln;

namespace Examples.Tests;

/// <summary>
/// examples/Serving as a user starts it: a process that trains Iris, saves the weights and listens on loopback. Its
/// answers to concurrent requests must be bit-identical to a serial Predict with the saved weights, and bad input
/// must be a 400 that says what was wrong.
/// </summary>
public sealed class ServingTests(ServingTests.Server server) : IClassFixture<ServingTests.Server>
{
    private readonly HttpClient _http = server.Http;
    private readonly string _weights = server.Weights;

    /// <summary>One server process for the class.</summary>
    public sealed class Server : IDisposable
    {
        private readonly Process _process;

        public Server()
        {
            var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "Serving.dll"), "--save", Weights, "--port", "0"])
            {
                RedirectStandardOutput = true,
            };
            _process = Process.Start(start)!;
            // "Serving IrisNet on http://127.0.0.1:PORT (loopback only); …" names the port Kestrel bound.
            var deadline = Stopwatch.StartNew();
            string? url = null;
            while (url is null && deadline.Elapsed < TimeSpan.FromSeconds(60) && _process.StandardOutput.ReadLine() is { } line)
            {
                url = line.StartsWith("Serving IrisNet on ", StringComparison.Ordinal) ? line.Split(' ')[3] : null;
            }
            Http = new HttpClient { BaseAddress = new Uri(url ?? throw new InvalidOperationException("The server did not start.")) };
        }

        public string Weights { get; } = Path.Combine(Path.GetTempPath(), $"kiln-serving-{Guid.NewGuid():N}.safetensors");

        public HttpClient Http { get; }

        public void Dispose()
        {
            Http.Dispose();
            _process.Kill();
            _process.WaitForExit();
            _process.Dispose();
            File.Delete(Weights);
        }
    }

    [Fact]
    public async Task Listens_on_loopback_only()
    {
        Assert.True(IPAddress.IsLoopback(IPAddress.Parse(_http.BaseAddress!.Host)), _http.BaseAddress.ToString());
        var health = await _http.GetFromJsonAsync<JsonElement>("/health");
        Assert.Equal(4, health.GetProperty("inputSize").GetInt32());
    }

    [Fact]
    public async Task Concurrent_requests_get_the_serial_Predict_answers_bit_for_bit()
    {
        using var reference = new IrisNet(seed: 5);
        reference.Load(_weights);
        var flowers = Datasets.Iris().Select(e => e.Features).ToArray();

        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(async client =>
        {
            var wrong = 0;
            for (var r = 0; r < 40; r++)
            {
                var i = (client * 19 + r) % flowers.Length;
                using var response = await _http.PostAsJsonAsync("/predict", new { features = flowers[i] });
                response.EnsureSuccessStatusCode();
                var json = await response.Content.ReadFromJsonAsync<JsonElement>();
                var row = json.GetProperty("probabilities")[0].EnumerateArray().Select(v => v.GetSingle()).ToArray();
                wrong += row.AsSpan().SequenceEqual(reference.Predict(flowers[i])) ? 0 : 1;
            }
            return wrong;
        }));

        Assert.Equal(0, answers.Sum());
    }

    [Theory]
    [InlineData("""{"features":[1,2,3]}""", "4 measurements per flower")]
    [InlineData("""{}""", "got 0 values")]
    public async Task Bad_input_is_a_400_that_says_what_was_wrong(string body, string expected)
    {
        using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        using var response = await _http.PostAsync("/predict", content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, await response.Content.ReadAsStringAsync());
    }
}

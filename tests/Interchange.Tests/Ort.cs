using System.Collections.Concurrent;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Kiln.Interchange.Tests;

/// <summary>
/// Runs exported models in ONNX Runtime on the CPU. The process-wide environment is created once, logging at
/// warning level into <see cref="Log"/>, so a test can assert that loading and running a model logged nothing.
/// Thread-safe: the log is a concurrent queue and every call builds its own session.
/// </summary>
internal static class Ort
{
    private static readonly ConcurrentQueue<string> Messages = new();
    // Kept alive for as long as native code may call it.
    private static readonly DOrtLoggingFunction Logger = (_, severity, category, logId, location, message) =>
        Messages.Enqueue($"{logId}: {severity} [{category}] {location}: {message}");
    private static readonly Lazy<OrtEnv> Environment = new(() =>
    {
        var options = new EnvironmentCreationOptions { logId = "Kiln.Interchange.Tests", logLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING, loggingFunction = Logger };
        return OrtEnv.CreateInstanceWithOptions(ref options);
    });

    /// <summary>What ONNX Runtime logged at warning level or above for sessions named <paramref name="logId"/>.</summary>
    public static string[] Log(string logId) => [.. Messages.Where(m => m.StartsWith(logId + ":", StringComparison.Ordinal))];

    /// <summary>
    /// Loads <paramref name="model"/> in a session logging as <paramref name="logId"/>, runs <paramref name="features"/>
    /// (batch × per-example shape) and returns the output, row by row.
    /// </summary>
    public static float[] Run(byte[] model, float[] features, int batch, IReadOnlyList<int> inputShape, string logId)
    {
        using var session = Session(model, logId);
        var tensor = new DenseTensor<float>(features, [batch, .. inputShape]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", tensor)]);
        return results.Single(r => r.Name == "output").AsTensor<float>().ToArray();
    }

    /// <summary>Fails with every message logged for <paramref name="logId"/>.</summary>
    public static void AssertSilent(string logId)
    {
        var messages = Log(logId);
        Assert.True(messages.Length == 0, "ONNX Runtime logged:" + System.Environment.NewLine + string.Join(System.Environment.NewLine, messages));
    }

    public static InferenceSession Session(byte[] model, string logId)
    {
        _ = Environment.Value;
        using var options = new SessionOptions { LogId = logId, LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING, LogVerbosityLevel = 0 };
        return new InferenceSession(model, options);
    }
}

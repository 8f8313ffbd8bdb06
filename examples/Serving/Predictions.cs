using System.Text.Json.Serialization;
using Iris;
using Kiln;

namespace Serving;

public sealed record PredictRequest(float[]? Features);

/// <summary>One row of probabilities per flower, and the most likely species of each.</summary>
public sealed record PredictResponse(float[][] Probabilities, string[] Species);

public sealed record Health(int InputSize, int OutputSize, string Device, string Weights);

[JsonSerializable(typeof(PredictRequest))]
[JsonSerializable(typeof(PredictResponse))]
[JsonSerializable(typeof(Health))]
[JsonSerializable(typeof(Microsoft.AspNetCore.Mvc.ProblemDetails))]
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
internal sealed partial class ServingJson : JsonSerializerContext;

/// <summary>Turns a request into predictions; bad input is a 400 that says what was wrong, never a 500.</summary>
internal static class Predictions
{
    // Enough for a large batch, small enough that one request cannot make the server allocate much.
    private const int MaxFlowers = 4096;

    public static IResult Answer(IrisNet net, PredictRequest request)
    {
        var features = request.Features;
        if (features is null || features.Length == 0 || features.Length % IrisNet.InputSize != 0 || features.Length > MaxFlowers * IrisNet.InputSize)
        {
            return Results.Problem($"'features' must hold 4 measurements per flower, for 1 to {MaxFlowers} flowers; got {features?.Length ?? 0} values.", statusCode: 400);
        }
        var count = features.Length / IrisNet.InputSize;
        var outputs = new float[count * IrisNet.OutputSize];
        try
        {
            net.Predict(features, outputs);
        }
        catch (InvalidDataException e)
        {
            // Non-finite measurements.
            return Results.Problem(e.Message, statusCode: 400);
        }
        var rows = new float[count][];
        var species = new string[count];
        for (var i = 0; i < count; i++)
        {
            rows[i] = outputs[(i * IrisNet.OutputSize)..((i + 1) * IrisNet.OutputSize)];
            species[i] = Datasets.IrisClassNames[Array.IndexOf(rows[i], rows[i].Max())];
        }
        return Results.Ok(new PredictResponse(rows, species));
    }
}

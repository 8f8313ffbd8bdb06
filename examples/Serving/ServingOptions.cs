using System.Globalization;

namespace Serving;

/// <summary>The command line: an optional weights file, <c>--save FILE</c> and <c>--port N</c>.</summary>
internal sealed record ServingOptions(string? Weights, string? Save, int Port)
{
    public static ServingOptions Parse(string[] args)
    {
        string? weights = null, save = null;
        var port = 5080;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--save" when i + 1 < args.Length:
                    save = args[++i];
                    break;
                case "--port" when i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p <= 65535:
                    port = p;
                    i++;
                    break;
                case var arg when !arg.StartsWith("--", StringComparison.Ordinal) && weights is null:
                    weights = arg;
                    break;
                default:
                    throw new ArgumentException($"Unknown or incomplete argument '{args[i]}'. Usage: Serving [weights.safetensors] [--save FILE] [--port N]");
            }
        }
        return new ServingOptions(weights, save, port);
    }
}

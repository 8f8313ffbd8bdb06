using System.Reflection;
using Kiln.IO;

namespace Kiln;

public abstract partial class Network
{
    private const string NetworkKey = "kiln.network";
    private const string VersionKey = "kiln.version";

    /// <summary>
    /// Saves the weights as safetensors (tensors named <c>layer.kernel</c> / <c>layer.bias</c>, see docs/FORMATS.md).
    /// The file is written next to the target and renamed over it, so the previous file survives a crash.
    /// </summary>
    /// <param name="allowNonFinite">
    /// Write NaN or infinite weights too. By default they are refused with an <see cref="InvalidOperationException"/>
    /// naming the tensors, so a diverged network cannot overwrite a good checkpoint.
    /// </param>
    public void Save(string path, bool allowNonFinite = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var values = GetParameters();
        if (!allowNonFinite && NonFinite(values) is { Count: > 0 } bad)
        {
            throw new InvalidOperationException($"{Info.Name} was not saved to '{path}': its weights are not all finite ({string.Join("; ", bad)}). " +
                "Restore finite weights (Fit rolls back to its last finite epoch on a NaN loss) or pass allowNonFinite: true.");
        }
        var tensors = Info.Parameters
            .Select(p => new NamedTensor(p.Name, [.. p.Shape], values.AsSpan(p.Offset, p.Length).ToArray()))
            .ToList();
        var metadata = new Dictionary<string, string>
        {
            [NetworkKey] = Info.Name,
            [VersionKey] = typeof(Network).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown",
        };
        SafeTensors.Save(path, tensors, metadata);
    }

    /// <summary>Loads weights saved by <see cref="Save"/> (or a training checkpoint's weights); every name, dtype and shape must match, and all differences are reported at once.</summary>
    /// <param name="allowNonFinite">Accept NaN or infinite weights; by default they are an <see cref="InvalidDataException"/> naming the tensors.</param>
    public void Load(string path, bool allowNonFinite = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        SetParameters(ReadParameters(SafeTensors.Load(path), path, allowNonFinite));
    }

    /// <summary>The parameters of a saved file, in buffer order; a training checkpoint's optimizer tensors are ignored.</summary>
    private float[] ReadParameters(SafeTensorsFile file, string path, bool allowNonFinite = false)
    {
        var problems = new List<string>();
        var values = new float[Info.ParameterCount];
        foreach (var parameter in Info.Parameters)
        {
            if (!file.Tensors.TryGetValue(parameter.Name, out var tensor))
            {
                problems.Add($"missing tensor '{parameter.Name}' {Shape(parameter.Shape)}");
                continue;
            }
            if (tensor.DType != "F32")
            {
                problems.Add($"'{parameter.Name}' is {tensor.DType}, expected F32");
            }
            else if (!tensor.Shape.SequenceEqual(parameter.Shape))
            {
                problems.Add($"'{parameter.Name}' has shape {Shape(tensor.Shape)}, expected {Shape(parameter.Shape)}");
            }
            else
            {
                tensor.Data.CopyTo(values.AsSpan(parameter.Offset, parameter.Length));
            }
        }
        foreach (var name in file.Tensors.Keys.Where(n => Info.Parameters.All(p => p.Name != n) && !n.StartsWith(SlotPrefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            problems.Add($"unexpected tensor '{name}' {Shape(file.Tensors[name].Shape)}");
        }
        if (problems.Count > 0)
        {
            throw new InvalidDataException($"'{path}' does not fit {Info.Name}:" + Environment.NewLine + "  " + string.Join(Environment.NewLine + "  ", problems));
        }
        if (!allowNonFinite && NonFinite(values) is { Count: > 0 } bad)
        {
            throw new InvalidDataException($"'{path}' holds weights that are not finite ({string.Join("; ", bad)}); pass allowNonFinite: true to load them anyway.");
        }
        return values;
    }

    // One line per tensor holding NaN or infinity: its name, how many such values and the first.
    private List<string> NonFinite(float[] values)
    {
        var problems = new List<string>();
        foreach (var parameter in Info.Parameters)
        {
            var tensor = values.AsSpan(parameter.Offset, parameter.Length);
            var first = Execution.BatchValidation.FirstNonFinite(tensor);
            if (first >= 0)
            {
                var count = 0;
                foreach (var value in tensor)
                {
                    count += float.IsFinite(value) ? 0 : 1;
                }
                problems.Add($"'{parameter.Name}' holds {count} non-finite of {parameter.Length} values, the first {tensor[first]} at element {first}");
            }
        }
        return problems;
    }
}

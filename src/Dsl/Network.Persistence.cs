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
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var values = GetParameters();
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
    public void Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        SetParameters(ReadParameters(SafeTensors.Load(path), path));
    }

    /// <summary>The parameters of a saved file, in buffer order; a training checkpoint's optimizer tensors are ignored.</summary>
    private float[] ReadParameters(SafeTensorsFile file, string path)
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
        return values;
    }
}

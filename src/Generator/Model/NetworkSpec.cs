using System;
using System.Linq;

namespace Kiln.Generator.Model;

/// <summary>
/// One argument of a layer attribute, keyed by its parameter or property name in camel case (<c>units</c>,
/// <c>useBias</c>). Values are boxed <c>int</c>, <c>double</c>, <c>bool</c>, <c>string</c> or an
/// <see cref="EquatableArray{T}"/> of ints, all of which compare by value.
/// </summary>
internal sealed record LayerArgument(string Name, object? Value);

/// <summary>One layer attribute as written by the user, before shape inference.</summary>
internal sealed record LayerSpec(string Kind, string? Name, LocationInfo? Location, EquatableArray<LayerArgument> Arguments)
{
    private object? Find(string name) => Arguments.FirstOrDefault(a => a.Name == name)?.Value;

    public int Int(string name, int fallback = 0) => Find(name) is int v ? v : fallback;

    public double Double(string name, double fallback = 0) => Find(name) switch
    {
        double d => d,
        float f => f,
        int i => i,
        _ => fallback,
    };

    public bool Bool(string name, bool fallback) => Find(name) is bool b ? b : fallback;

    public T Enum<T>(string name, T fallback) where T : struct, Enum =>
        Find(name) is int v ? (T)System.Enum.ToObject(typeof(T), v) : fallback;

    public EquatableArray<int> Ints(string name) => Find(name) is EquatableArray<int> a ? a : default;
}

/// <summary>What the parser reads off a <c>[Network]</c> class: no symbols, only data.</summary>
internal sealed record NetworkSpec(
    string Namespace,
    string ClassName,
    string MetadataName,
    string Accessibility,
    LossKind Loss,
    LocationInfo? Location,
    EquatableArray<LayerSpec> Layers,
    EquatableArray<DiagnosticInfo> Diagnostics,
    bool FromLogits = false);

using System.Collections.Generic;
using System.Globalization;
using Kiln.Generator.Model;

namespace Kiln.Generator.Layers;

/// <summary>One layer during validation and inference: its attribute, name, input shape and where diagnostics go.</summary>
internal sealed class LayerContext(LayerSpec spec, LayerDescriptor descriptor, string name, Shape input, bool isLast, List<DiagnosticInfo> diagnostics)
{
    public LayerSpec Spec { get; } = spec;
    public string Name { get; } = name;
    public string TypeName { get; } = descriptor.TypeName;
    public Shape Input { get; } = input;
    public bool IsLast { get; } = isLast;

    public void Report(Microsoft.CodeAnalysis.DiagnosticDescriptor descriptor, params string[] arguments) =>
        diagnostics.Add(DiagnosticInfo.Create(descriptor.Id, Spec.Location, arguments));

    /// <summary>Reports KLN0008 unless <paramref name="value"/> is positive.</summary>
    public bool Positive(int value, string what)
    {
        if (value > 0)
        {
            return true;
        }
        Report(DiagnosticDescriptors.NonPositiveArgument, Name, what, Invariant(value));
        return false;
    }

    /// <summary>Reports KLN0021 unless <paramref name="value"/> lies in the range, written as <paramref name="range"/>.</summary>
    public bool InRange(double value, bool inside, string what, string range)
    {
        if (inside)
        {
            return true;
        }
        Report(DiagnosticDescriptors.ArgumentOutOfRange, Name, what, range, value.ToString("R", CultureInfo.InvariantCulture));
        return false;
    }

    /// <summary>Reports KLN0021 for an activation outside <c>Kiln.Activation</c>, KLN0010 for a softmax before the end.</summary>
    public void CheckActivation(Activation activation)
    {
        if (activation < Activation.Linear || activation > Activation.Softplus)
        {
            Report(DiagnosticDescriptors.ArgumentOutOfRange, Name, "activation", "one of Kiln.Activation", Invariant((int)activation));
        }
        else if (activation == Activation.Softmax && !IsLast)
        {
            Report(DiagnosticDescriptors.SoftmaxNotLast, Name);
        }
    }

    public bool RequireImage()
    {
        if (Input.Rank == 3)
        {
            return true;
        }
        Report(DiagnosticDescriptors.NeedsImage, Name, TypeName, Input.ToString());
        return false;
    }

    public bool RequireVector()
    {
        if (Input.Rank == 1)
        {
            return true;
        }
        Report(DiagnosticDescriptors.NeedsVector, Name, TypeName, Input.ToString());
        return false;
    }

    /// <summary>Reports KLN0007 when a valid window leaves no output.</summary>
    public bool NonEmpty(Shape output, string what, int size)
    {
        if (output.Height > 0 && output.Width > 0)
        {
            return true;
        }
        var reason = $"a {Invariant(size)}×{Invariant(size)} valid {what} does not fit in {Invariant(Input.Height)}×{Invariant(Input.Width)}";
        Report(DiagnosticDescriptors.EmptyOutput, Name, TypeName, Input.ToString(), output.ToString(), reason);
        return false;
    }

    public static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}

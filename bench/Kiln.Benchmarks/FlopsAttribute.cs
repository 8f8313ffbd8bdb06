namespace Kiln.Benchmarks;

/// <summary>Floating-point operations of one invocation (2 per multiply-add), from the shapes; read by <see cref="GflopsColumn"/>.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class FlopsAttribute(double flops) : Attribute
{
    public double Flops { get; } = flops;
}

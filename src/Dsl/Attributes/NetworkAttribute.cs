namespace Kiln;

/// <summary>
/// Marks a <c>partial class</c> as a network. The layer attributes on the same declaration,
/// in source order, are the layers; the generator emits the specialised implementation.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class NetworkAttribute : Attribute
{
    /// <summary>The training loss; sparse categorical crossentropy by default, as in the workshop.</summary>
    public Loss Loss { get; set; } = Loss.SparseCategoricalCrossentropy;
}

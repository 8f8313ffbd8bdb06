using System.Diagnostics.CodeAnalysis;

namespace Kiln;

/// <summary>
/// Marks a <c>partial class</c> as a network. The layer attributes on the same declaration,
/// in source order, are the layers; the generator emits the specialised implementation. Immutable.
/// </summary>
/// <remarks>
/// KLN0100 (below) is a sentinel, not a warning about the API: the Kiln package and the repository's own projects
/// suppress it, so it shows only in a project whose build lacks Kiln's source generator, where [Network] classes would
/// otherwise fail with unrelated errors (no Summary, no constructor, no Predict).
/// </remarks>
[Experimental("KLN0100", Message = "Kiln's source generator is not in this build, so this network gets no code. A ProjectReference to src/Dsl/Dsl.csproj does not bring it: reference the Kiln package instead (README, 'Use Kiln in your project'); inside Kiln's repository, import eng/Kiln.InRepo.props")]
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class NetworkAttribute : Attribute
{
    /// <summary>The training loss; sparse categorical crossentropy by default, as in the workshop.</summary>
    public Loss Loss { get; set; } = Loss.SparseCategoricalCrossentropy;

    /// <summary>
    /// Keras' <c>from_logits=True</c> for the crossentropies: the last layer is linear and its outputs are logits; the
    /// loss applies the softmax or sigmoid itself, and predictions return the logits. False (the default) needs the
    /// softmax or sigmoid on the last layer (KLN0011).
    /// </summary>
    public bool FromLogits { get; set; }
}

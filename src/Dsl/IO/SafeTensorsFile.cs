namespace Kiln.IO;

/// <summary>The contents of a safetensors file: tensors by name, and the string metadata of <c>__metadata__</c>.</summary>
public sealed record SafeTensorsFile(IReadOnlyDictionary<string, NamedTensor> Tensors, IReadOnlyDictionary<string, string> Metadata);

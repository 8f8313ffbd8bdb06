namespace Kiln.IO;

/// <summary>A named tensor: <see cref="Data"/> holds the product of <see cref="Shape"/> values, row-major.</summary>
public sealed record NamedTensor(string Name, int[] Shape, float[] Data, string DType = "F32");

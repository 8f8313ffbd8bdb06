namespace Kiln.IO;

/// <summary>The images of an IDX file: <see cref="Count"/> row-major images of <see cref="Rows"/> × <see cref="Columns"/> grey levels.</summary>
public sealed record IdxImages(int Count, int Rows, int Columns, byte[] Pixels);

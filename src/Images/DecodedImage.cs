namespace Kiln.Images;

/// <summary>A decoded image at its own size: <see cref="Shape"/>, channels last, values in [0, 1]. Not synchronised: share it read-only.</summary>
public sealed record DecodedImage(float[] Pixels, ImageShape Shape);

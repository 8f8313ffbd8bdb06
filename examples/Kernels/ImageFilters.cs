using Kiln.Runtime.Cpu;

namespace Kernels;

/// <summary>A named 3×3 kernel from the workshop's image-analysis section.</summary>
public sealed record Filter(string Name, float[] Weights, bool SignedResponse);

/// <summary>Applies 3×3 kernels to grey-level images with Kiln's own Conv2D forward kernel.</summary>
public static class ImageFilters
{
    public static IReadOnlyList<Filter> Workshop { get; } =
    [
        new("sharpen", [0, -1, 0, -1, 5, -1, 0, -1, 0], SignedResponse: false),
        new("box blur", [.. Enumerable.Repeat(1f / 9, 9)], SignedResponse: false),
        new("sobel x", [-1, 0, 1, -2, 0, 2, -1, 0, 1], SignedResponse: true),
        new("sobel y", [-1, -2, -1, 0, 0, 0, 1, 2, 1], SignedResponse: true),
        new("edges (isotropic)", [-1, -1, -1, -1, 8, -1, -1, -1, -1], SignedResponse: true),
    ];

    /// <summary>
    /// Cross-correlates a height × width image with a 3×3 kernel, 'same' size, zeros beyond the border
    /// (the workshop's edge handling): a Conv2D with one input and one output channel and no bias.
    /// </summary>
    public static float[] Apply(ReadOnlySpan<float> image, int height, int width, Filter filter)
    {
        if (image.Length != height * width)
        {
            throw new ArgumentException($"A {height}×{width} image has {height * width} pixels, but {image.Length} were given.", nameof(image));
        }
        var geometry = new ConvGeometry(height, width, 1, height, width, 1, 3, 1, 1, 1);
        var output = new float[height * width];
        var scratch = new float[Conv2D.ScratchSize(1, geometry)];
        Conv2D.Forward(image, filter.Weights, [0f], output, 1, geometry, Epilogue.Linear, scratch);
        return output;
    }

    /// <summary>Maps a filter response to [0, 1] for display: clamped for smoothing kernels, |response| / max for edge kernels.</summary>
    public static float[] ForDisplay(float[] response, bool signed)
    {
        if (!signed)
        {
            return [.. response.Select(v => Math.Clamp(v, 0f, 1f))];
        }
        var max = response.Max(MathF.Abs);
        return [.. response.Select(v => max == 0 ? 0 : MathF.Abs(v) / max)];
    }
}

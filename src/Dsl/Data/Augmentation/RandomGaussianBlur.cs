using Kiln.Runtime.Cpu;

namespace Kiln;

/// <summary>
/// Keras' <c>RandomGaussianBlur(factor=1.0, kernel_size=3, sigma=1.0)</c>: blurs an image with probability drawn
/// uniformly from the factor range (a single f means [0, f]), with a <see cref="KernelSize"/>² Gaussian whose
/// standard deviations along y and x are drawn from the sigma range (a single s means [0, s]; 1e-6 is added, as Keras
/// does). The blur is Kiln's own <see cref="Conv2D"/> forward kernel, one input and one output channel per image
/// channel, 'same' size with zeros beyond the border (Keras' depthwise convolution); the result is clipped to the
/// value range.
/// </summary>
/// <remarks>Immutable: one instance may serve any number of pipelines and threads at once.</remarks>
public sealed class RandomGaussianBlur : ImageAugmentation
{
    private readonly (double Lower, double Upper) _factor;
    private readonly (double Lower, double Upper) _sigma;
    private readonly (float Low, float High) _range;

    public RandomGaussianBlur(double factor = 1.0, int kernelSize = 3, double sigma = 1.0, (double Low, double High)? valueRange = null)
        : this((0, factor), kernelSize, (0, sigma), valueRange)
    {
    }

    public RandomGaussianBlur((double Lower, double Upper) factor, int kernelSize, (double Lower, double Upper) sigma, (double Low, double High)? valueRange = null)
    {
        _factor = Ordered(factor.Lower, factor.Upper, nameof(factor));
        CheckWithin(_factor, 0, 1, nameof(factor));
        _sigma = Ordered(sigma.Lower, sigma.Upper, nameof(sigma));
        CheckWithin(_sigma, 0, double.MaxValue, nameof(sigma));
        if (kernelSize < 1 || kernelSize % 2 == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(kernelSize), kernelSize, "The kernel size must be a positive odd number.");
        }
        KernelSize = kernelSize;
        _range = CheckValueRange(valueRange, nameof(valueRange));
    }

    public int KernelSize { get; }

    /// <summary>The normalised k×k kernel of standard deviations (σy, σx), row-major: Keras' outer product of two 1-D Gaussians.</summary>
    public static float[] Kernel(int kernelSize, double sigmaY, double sigmaX)
    {
        var ky = Gaussian(kernelSize, sigmaY);
        var kx = Gaussian(kernelSize, sigmaX);
        var kernel = new float[kernelSize * kernelSize];
        for (var i = 0; i < kernelSize; i++)
        {
            for (var j = 0; j < kernelSize; j++)
            {
                kernel[i * kernelSize + j] = (float)(ky[i] * kx[j]);
            }
        }
        return kernel;
    }

    /// <summary>
    /// Blurs each channel of <paramref name="image"/> with <paramref name="kernel"/> (k×k, as <see cref="Kernel"/>), in
    /// place. Safe to call from several threads at once.
    /// </summary>
    public static void Blur(Span<float> image, ImageShape shape, ReadOnlySpan<float> kernel)
    {
        shape.Validate(nameof(shape));
        var k = (int)Math.Round(Math.Sqrt(kernel.Length));
        if (k * k != kernel.Length || k % 2 == 0)
        {
            throw new ArgumentException($"A blur kernel is k×k with k odd; {kernel.Length} values are not.", nameof(kernel));
        }
        if (image.Length != shape.Size)
        {
            throw new ArgumentException($"A {shape} image has {shape.Size} values, but {image.Length} were given.", nameof(image));
        }
        var (h, w, c) = (shape.Height, shape.Width, shape.Channels);
        var plane = h * w;
        // Each channel is one sample of a one-channel convolution: planes [c, h, w, 1] in, planes out.
        var geometry = new ConvGeometry(h, w, 1, h, w, 1, k, 1, (k - 1) / 2, (k - 1) / 2);
        var planes = new float[c * plane];
        var blurred = new float[c * plane];
        for (var p = 0; p < plane; p++)
        {
            for (var ch = 0; ch < c; ch++)
            {
                planes[ch * plane + p] = image[p * c + ch];
            }
        }
        var scratch = new float[Conv2D.ScratchSize(c, geometry)];
        Conv2D.Forward(planes, kernel, [0f], blurred, c, geometry, Epilogue.Linear, scratch);
        for (var p = 0; p < plane; p++)
        {
            for (var ch = 0; ch < c; ch++)
            {
                image[p * c + ch] = blurred[ch * plane + p];
            }
        }
    }

    internal override void Apply(Span<float> image, Span<float> scratch, ImageShape shape, ref SplitMix64 random)
    {
        var probability = random.NextDouble(_factor.Lower, _factor.Upper);
        var apply = random.NextDouble() < probability;
        var sigmaY = random.NextDouble(_sigma.Lower, _sigma.Upper) + 1e-6;
        var sigmaX = random.NextDouble(_sigma.Lower, _sigma.Upper) + 1e-6;
        if (!apply)
        {
            return;
        }
        Blur(image, shape, Kernel(KernelSize, sigmaY, sigmaX));
        foreach (ref var v in image)
        {
            v = Math.Clamp(v, _range.Low, _range.High);
        }
    }

    private static double[] Gaussian(int size, double sigma)
    {
        var weights = new double[size];
        var sum = 0.0;
        for (var i = 0; i < size; i++)
        {
            var x = i - (size - 1) / 2.0;
            weights[i] = Math.Exp(-0.5 * x * x / (sigma * sigma));
            sum += weights[i];
        }
        for (var i = 0; i < size; i++)
        {
            weights[i] /= sum;
        }
        return weights;
    }
}

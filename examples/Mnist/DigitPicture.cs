using Kiln;
using Kiln.Images;

namespace Mnist;

/// <summary>
/// Turns a picture of a handwritten digit into what the network was trained on, the way MNIST was made: white ink on
/// black, the digit scaled (keeping its aspect ratio) so that its longer side fills a 20-pixel box, then placed in the
/// 28×28 frame with its centre of mass in the middle. Stateless: safe to call from any thread.
/// </summary>
public static class DigitPicture
{
    /// <summary>MNIST fits each digit into a 20×20 box inside the 28×28 frame.</summary>
    public const int Box = 20;

    public const int Size = 28;

    // After stretching, ink fainter than this is paper texture, shading or JPEG noise rather than the stroke.
    private const float InkThreshold = 0.25f;

    /// <summary>Loads <paramref name="path"/> (any format Kiln.Images decodes) and prepares it.</summary>
    public static float[] Load(string path) => Prepare(ImageDecoder.Decode(path, ColorMode.Rgba), path);

    /// <summary>
    /// Prepares an RGBA picture: transparent parts count as white paper; a light background (judged from the border)
    /// is inverted; the ink is stretched to [0, 1]; the digit is scaled into the 20×20 box and centred by its centre of mass.
    /// </summary>
    public static float[] Prepare(DecodedImage picture, string name)
    {
        ArgumentNullException.ThrowIfNull(picture);
        if (picture.Shape.Channels != 4)
        {
            throw new ArgumentException($"Expected an RGBA picture, got {picture.Shape.Channels} channels.", nameof(picture));
        }
        var (h, w) = (picture.Shape.Height, picture.Shape.Width);
        var gray = new float[h * w];
        for (var p = 0; p < gray.Length; p++)
        {
            var rgba = picture.Pixels.AsSpan(p * 4, 4);
            var luminance = 0.2989f * rgba[0] + 0.5870f * rgba[1] + 0.1140f * rgba[2];
            gray[p] = rgba[3] * luminance + (1 - rgba[3]);
        }

        var background = Median(Border(gray, h, w));
        if (background > 0.5f)
        {
            for (var p = 0; p < gray.Length; p++)
            {
                gray[p] = 1 - gray[p];
            }
            background = 1 - background;
        }
        var peak = gray.Max();
        if (peak - background < 0.1f)
        {
            throw new InvalidDataException($"'{name}' shows no digit: its darkest and lightest parts differ by less than 10%.");
        }
        for (var p = 0; p < gray.Length; p++)
        {
            var ink = Math.Clamp((gray[p] - background) / (peak - background), 0f, 1f);
            gray[p] = ink < InkThreshold ? 0f : (ink - InkThreshold) / (1 - InkThreshold);
        }

        var (top, left, bottom, right) = BoundingBox(gray, h, w);
        var (boxH, boxW) = (bottom - top + 1, right - left + 1);
        var crop = new float[boxH * boxW];
        for (var y = 0; y < boxH; y++)
        {
            gray.AsSpan((top + y) * w + left, boxW).CopyTo(crop.AsSpan(y * boxW, boxW));
        }
        var scale = (double)Box / Math.Max(boxH, boxW);
        var (outH, outW) = (Math.Max(1, (int)Math.Round(boxH * scale)), Math.Max(1, (int)Math.Round(boxW * scale)));
        var digit = Scale(crop, boxH, boxW, outH, outW);

        var (comY, comX) = CentreOfMass(digit, outH, outW);
        var offsetY = Math.Clamp((int)Math.Round(Size / 2.0 - comY), 0, Size - outH);
        var offsetX = Math.Clamp((int)Math.Round(Size / 2.0 - comX), 0, Size - outW);
        var frame = new float[Size * Size];
        for (var y = 0; y < outH; y++)
        {
            digit.AsSpan(y * outW, outW).CopyTo(frame.AsSpan((offsetY + y) * Size + offsetX, outW));
        }
        return frame;
    }

    /// <summary>Centre of mass in pixel coordinates whose pixel centres lie at i + ½ (MNIST's convention for centring).</summary>
    public static (double Y, double X) CentreOfMass(ReadOnlySpan<float> image, int height, int width)
    {
        double mass = 0, sy = 0, sx = 0;
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var v = image[y * width + x];
                mass += v;
                sy += v * (y + 0.5);
                sx += v * (x + 0.5);
            }
        }
        return mass > 0 ? (sy / mass, sx / mass) : (height / 2.0, width / 2.0);
    }

    /// <summary>The smallest rectangle (inclusive) holding every nonzero pixel.</summary>
    public static (int Top, int Left, int Bottom, int Right) BoundingBox(ReadOnlySpan<float> image, int height, int width)
    {
        int top = height, left = width, bottom = -1, right = -1;
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                if (image[y * width + x] > 0)
                {
                    (top, bottom) = (Math.Min(top, y), Math.Max(bottom, y));
                    (left, right) = (Math.Min(left, x), Math.Max(right, x));
                }
            }
        }
        return (top, left, bottom, right);
    }

    // Shrinking averages each output pixel's area of the input (a photo is often 100× larger than the box, and sampling
    // it bilinearly would keep only scattered pixels of the stroke); growing is bilinear.
    private static float[] Scale(float[] input, int h, int w, int outH, int outW)
    {
        if (outH >= h && outW >= w)
        {
            var grown = new float[outH * outW];
            Resize.Bilinear(input, new ImageShape(h, w, 1), grown, new ImageShape(outH, outW, 1));
            return grown;
        }
        var rows = AreaWeights(h, outH);
        var columns = AreaWeights(w, outW);
        var output = new float[outH * outW];
        for (var oy = 0; oy < outH; oy++)
        {
            for (var ox = 0; ox < outW; ox++)
            {
                var sum = 0.0;
                foreach (var (y, wy) in rows[oy])
                {
                    foreach (var (x, wx) in columns[ox])
                    {
                        sum += wy * wx * input[y * w + x];
                    }
                }
                output[oy * outW + ox] = (float)sum;
            }
        }
        return output;
    }

    // For each output index, the input indices its interval [o·n/m, (o+1)·n/m) covers and the share of each.
    private static List<(int Index, double Weight)>[] AreaWeights(int n, int m)
    {
        var weights = new List<(int, double)>[m];
        var step = (double)n / m;
        for (var o = 0; o < m; o++)
        {
            weights[o] = [];
            var (start, end) = (o * step, (o + 1) * step);
            for (var i = (int)Math.Floor(start); i < Math.Min(n, (int)Math.Ceiling(end)); i++)
            {
                var covered = Math.Min(end, i + 1) - Math.Max(start, i);
                if (covered > 0)
                {
                    weights[o].Add((i, covered / step));
                }
            }
        }
        return weights;
    }

    private static IEnumerable<float> Border(float[] gray, int h, int w)
    {
        for (var x = 0; x < w; x++)
        {
            yield return gray[x];
            yield return gray[(h - 1) * w + x];
        }
        for (var y = 1; y < h - 1; y++)
        {
            yield return gray[y * w];
            yield return gray[y * w + w - 1];
        }
    }

    private static float Median(IEnumerable<float> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }
}

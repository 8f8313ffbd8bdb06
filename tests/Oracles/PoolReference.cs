using Kiln.Runtime.Cpu;

namespace Kiln.Oracles;

/// <summary>Average and global pooling in float64 (NHWC).</summary>
public static class PoolReference
{
    /// <summary>Keras' AveragePooling2D: the mean of each window's cells inside the input (padding not counted); 0 when none.</summary>
    public static double[] Average(double[] x, int batch, PoolGeometry g)
    {
        var c = g.Channels;
        var y = new double[batch * g.OutSize];
        for (var b = 0; b < batch; b++)
        for (var oh = 0; oh < g.OutH; oh++)
        for (var ow = 0; ow < g.OutW; ow++)
        for (var ch = 0; ch < c; ch++)
        {
            double sum = 0;
            var count = 0;
            for (var kh = 0; kh < g.Pool; kh++)
            for (var kw = 0; kw < g.Pool; kw++)
            {
                var ih = oh * g.Stride + kh - g.PadTop;
                var iw = ow * g.Stride + kw - g.PadLeft;
                if (ih >= 0 && ih < g.InH && iw >= 0 && iw < g.InW)
                {
                    sum += x[b * g.InSize + (ih * g.InW + iw) * c + ch];
                    count++;
                }
            }
            y[((b * g.OutH + oh) * g.OutW + ow) * c + ch] = count == 0 ? 0 : sum / count;
        }
        return y;
    }

    /// <summary>The mean over the pixels: [batch, pixels, channels] → [batch, channels].</summary>
    public static double[] GlobalAverage(double[] x, int batch, int pixels, int channels)
    {
        var y = new double[batch * channels];
        for (var b = 0; b < batch; b++)
        for (var p = 0; p < pixels; p++)
        for (var c = 0; c < channels; c++)
        {
            y[b * channels + c] += x[(b * pixels + p) * channels + c] / pixels;
        }
        return y;
    }

    /// <summary>The maximum over the pixels and the in-sample index p·channels + c of the first one.</summary>
    public static (double[] Y, int[] Argmax) GlobalMax(double[] x, int batch, int pixels, int channels)
    {
        var y = new double[batch * channels];
        var argmax = new int[y.Length];
        for (var b = 0; b < batch; b++)
        for (var c = 0; c < channels; c++)
        {
            var (best, at) = (double.NegativeInfinity, -1);
            for (var p = 0; p < pixels; p++)
            {
                var v = x[(b * pixels + p) * channels + c];
                if (v > best)
                {
                    (best, at) = (v, p * channels + c);
                }
            }
            (y[b * channels + c], argmax[b * channels + c]) = (best, at);
        }
        return (y, argmax);
    }
}

using Kiln.Runtime.Cpu;

namespace Kiln.Oracles;

public static class MaxPool2DReference
{
    /// <summary>Window maxima over in-image cells only, and the flat in-sample index of the first maximum.</summary>
    public static (double[] Y, int[] Argmax) Forward(double[] x, int batch, PoolGeometry g)
    {
        var c = g.Channels;
        var y = new double[batch * g.OutH * g.OutW * c];
        var argmax = new int[y.Length];
        for (var b = 0; b < batch; b++)
        for (var oh = 0; oh < g.OutH; oh++)
        for (var ow = 0; ow < g.OutW; ow++)
        for (var ch = 0; ch < c; ch++)
        {
            var best = double.NegativeInfinity;
            var index = -1;
            for (var kh = 0; kh < g.Pool; kh++)
            for (var kw = 0; kw < g.Pool; kw++)
            {
                var ih = oh * g.Stride + kh - g.PadTop;
                var iw = ow * g.Stride + kw - g.PadLeft;
                if (ih < 0 || ih >= g.InH || iw < 0 || iw >= g.InW)
                {
                    continue;
                }
                var at = (ih * g.InW + iw) * c + ch;
                var v = x[b * g.InH * g.InW * c + at];
                if (v > best)
                {
                    best = v;
                    index = at;
                }
            }
            var o = ((b * g.OutH + oh) * g.OutW + ow) * c + ch;
            y[o] = index < 0 ? 0 : best;
            argmax[o] = index;
        }
        return (y, argmax);
    }

    /// <summary>
    /// dx: each output's dy added to its argmax, outputs in row-major order, in float: the order both runtimes promise,
    /// so the comparison can be exact. Argmax −1 (an empty window) adds nothing.
    /// </summary>
    public static float[] Backward(float[] dy, int[] argmax, int batch, PoolGeometry g)
    {
        var dx = new float[batch * g.InSize];
        for (var i = 0; i < dy.Length; i++)
        {
            if (argmax[i] >= 0)
            {
                dx[i / g.OutSize * g.InSize + argmax[i]] += dy[i];
            }
        }
        return dx;
    }
}

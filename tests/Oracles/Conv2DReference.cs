using Kiln.Runtime.Cpu;

namespace Kiln.Oracles;

/// <summary>Direct convolution loops in double (no im2col), NHWC, Keras kernel layout [K, K, InC, OutC].</summary>
public static class Conv2DReference
{
    public static double[] Forward(double[] x, double[] w, double[] bias, int batch, ConvGeometry g, Epilogue act)
    {
        var y = new double[batch * g.OutH * g.OutW * g.OutC];
        ForEachTap(batch, g, (xi, wi, yi) => y[yi] += x[xi] * w[wi]);
        for (var i = 0; i < y.Length; i++)
        {
            y[i] = ActivationReference.Apply(y[i] + bias[i % g.OutC], act);
        }
        return y;
    }

    public static double[] BackwardData(double[] dz, double[] w, int batch, ConvGeometry g)
    {
        var dx = new double[batch * g.InH * g.InW * g.InC];
        ForEachTap(batch, g, (xi, wi, yi) => dx[xi] += dz[yi] * w[wi]);
        return dx;
    }

    public static (double[] Dw, double[] Db) BackwardWeights(double[] x, double[] dz, int batch, ConvGeometry g)
    {
        var dw = new double[g.Kernel * g.Kernel * g.InC * g.OutC];
        var db = new double[g.OutC];
        ForEachTap(batch, g, (xi, wi, yi) => dw[wi] += x[xi] * dz[yi]);
        for (var i = 0; i < dz.Length; i++)
        {
            db[i % g.OutC] += dz[i];
        }
        return (dw, db);
    }

    // Calls tap(x index, w index, y index) for every product y[b,oh,ow,oc] += x[b,ih,iw,ic]·w[kh,kw,ic,oc] inside the image.
    private static void ForEachTap(int batch, ConvGeometry g, Action<int, int, int> tap)
    {
        for (var b = 0; b < batch; b++)
        for (var oh = 0; oh < g.OutH; oh++)
        for (var ow = 0; ow < g.OutW; ow++)
        for (var oc = 0; oc < g.OutC; oc++)
        for (var kh = 0; kh < g.Kernel; kh++)
        for (var kw = 0; kw < g.Kernel; kw++)
        {
            var ih = oh * g.Stride + kh - g.PadTop;
            var iw = ow * g.Stride + kw - g.PadLeft;
            if (ih < 0 || ih >= g.InH || iw < 0 || iw >= g.InW)
            {
                continue;
            }
            for (var ic = 0; ic < g.InC; ic++)
            {
                tap(((b * g.InH + ih) * g.InW + iw) * g.InC + ic,
                    ((kh * g.Kernel + kw) * g.InC + ic) * g.OutC + oc,
                    ((b * g.OutH + oh) * g.OutW + ow) * g.OutC + oc);
            }
        }
    }
}

namespace Kiln.Runtime.Cuda.Tests;

/// <summary>Float64 oracles for the kernel library's contract (the same contract Kiln.Runtime.Cpu implements).</summary>
internal static class Reference
{
    public static double Act(double v, int act) => act switch
    {
        1 => v > 0 ? v : 0,
        2 => 1 / (1 + Math.Exp(-v)),
        3 => Math.Tanh(v),
        _ => v,
    };

    public static double ActGrad(double y, double dy, int act) => act switch
    {
        1 => y > 0 ? dy : 0,
        2 => dy * y * (1 - y),
        3 => dy * (1 - y * y),
        _ => dy,
    };

    public static double[] DenseForward(float[] x, float[] w, float[] b, int batch, int inF, int outF, int act)
    {
        var y = new double[batch * outF];
        for (int n = 0; n < batch; n++)
        {
            for (int o = 0; o < outF; o++)
            {
                double acc = 0;
                for (int i = 0; i < inF; i++)
                {
                    acc += (double)x[n * inF + i] * w[i * outF + o];
                }
                y[n * outF + o] = Act(acc + b[o], act);
            }
        }
        return y;
    }

    public static double[] DenseBackwardData(float[] dy, float[] w, int batch, int inF, int outF)
    {
        var dx = new double[batch * inF];
        for (int n = 0; n < batch; n++)
        {
            for (int i = 0; i < inF; i++)
            {
                double acc = 0;
                for (int o = 0; o < outF; o++)
                {
                    acc += (double)dy[n * outF + o] * w[i * outF + o];
                }
                dx[n * inF + i] = acc;
            }
        }
        return dx;
    }

    public static (double[] Dw, double[] Db) DenseBackwardWeights(float[] x, float[] dy, int batch, int inF, int outF)
    {
        var dw = new double[inF * outF];
        var db = new double[outF];
        for (int n = 0; n < batch; n++)
        {
            for (int o = 0; o < outF; o++)
            {
                db[o] += dy[n * outF + o];
                for (int i = 0; i < inF; i++)
                {
                    dw[i * outF + o] += (double)x[n * inF + i] * dy[n * outF + o];
                }
            }
        }
        return (dw, db);
    }

    public readonly record struct Conv(int InH, int InW, int InC, int OutH, int OutW, int OutC, int K, int S, int PadTop, int PadLeft)
    {
        public string Template => $"{InH},{InW},{InC},{OutH},{OutW},{OutC},{K},{S},{PadTop},{PadLeft}";
        public int InSize => InH * InW * InC;
        public int OutSize => OutH * OutW * OutC;
        public int Weights => K * K * InC * OutC;
    }

    public static double[] ConvForward(float[] x, float[] w, float[] b, int batch, Conv c, int act)
    {
        var y = new double[batch * c.OutSize];
        for (int n = 0; n < batch; n++)
        for (int oh = 0; oh < c.OutH; oh++)
        for (int ow = 0; ow < c.OutW; ow++)
        for (int oc = 0; oc < c.OutC; oc++)
        {
            double acc = 0;
            for (int kh = 0; kh < c.K; kh++)
            for (int kw = 0; kw < c.K; kw++)
            {
                int ih = oh * c.S + kh - c.PadTop, iw = ow * c.S + kw - c.PadLeft;
                if (ih < 0 || ih >= c.InH || iw < 0 || iw >= c.InW)
                {
                    continue;
                }
                for (int ic = 0; ic < c.InC; ic++)
                {
                    acc += (double)x[((n * c.InH + ih) * c.InW + iw) * c.InC + ic] * w[((kh * c.K + kw) * c.InC + ic) * c.OutC + oc];
                }
            }
            y[((n * c.OutH + oh) * c.OutW + ow) * c.OutC + oc] = Act(acc + b[oc], act);
        }
        return y;
    }

    public static (double[] Dx, double[] Dw, double[] Db) ConvBackward(float[] x, float[] w, float[] dy, int batch, Conv c)
    {
        var dx = new double[batch * c.InSize];
        var dw = new double[c.Weights];
        var db = new double[c.OutC];
        for (int n = 0; n < batch; n++)
        for (int oh = 0; oh < c.OutH; oh++)
        for (int ow = 0; ow < c.OutW; ow++)
        for (int oc = 0; oc < c.OutC; oc++)
        {
            double g = dy[((n * c.OutH + oh) * c.OutW + ow) * c.OutC + oc];
            db[oc] += g;
            for (int kh = 0; kh < c.K; kh++)
            for (int kw = 0; kw < c.K; kw++)
            {
                int ih = oh * c.S + kh - c.PadTop, iw = ow * c.S + kw - c.PadLeft;
                if (ih < 0 || ih >= c.InH || iw < 0 || iw >= c.InW)
                {
                    continue;
                }
                for (int ic = 0; ic < c.InC; ic++)
                {
                    int xi = ((n * c.InH + ih) * c.InW + iw) * c.InC + ic;
                    int wi = ((kh * c.K + kw) * c.InC + ic) * c.OutC + oc;
                    dx[xi] += g * w[wi];
                    dw[wi] += g * x[xi];
                }
            }
        }
        return (dx, dw, db);
    }

    /// <summary>Max-pool in float, ties to the first maximum, with the CPU's scatter backward: bit-exact expectations.</summary>
    public static (float[] Y, int[] Argmax, float[] Dx) MaxPool(float[] x, float[] dy, int batch, int inH, int inW, int ch, int outH, int outW, int k, int s, int padTop, int padLeft)
    {
        var y = new float[batch * outH * outW * ch];
        var arg = new int[y.Length];
        var dx = new float[batch * inH * inW * ch];
        for (int n = 0; n < batch; n++)
        for (int oh = 0; oh < outH; oh++)
        for (int ow = 0; ow < outW; ow++)
        for (int c = 0; c < ch; c++)
        {
            float best = 0;
            int index = -1;
            for (int kh = 0; kh < k; kh++)
            for (int kw = 0; kw < k; kw++)
            {
                int ih = oh * s + kh - padTop, iw = ow * s + kw - padLeft;
                if (ih < 0 || ih >= inH || iw < 0 || iw >= inW)
                {
                    continue;
                }
                int at = (ih * inW + iw) * ch + c;
                float v = x[n * inH * inW * ch + at];
                if (index < 0 || v > best)
                {
                    best = v;
                    index = at;
                }
            }
            int o = ((n * outH + oh) * outW + ow) * ch + c;
            y[o] = best;
            arg[o] = index;
            dx[n * inH * inW * ch + index] += dy[o];
        }
        return (y, arg, dx);
    }

    // The dropout hash, as 00_common.cu defines it.
    public static uint Mix32(uint x)
    {
        x ^= x >> 16;
        x *= 0x7FEB352Du;
        x ^= x >> 15;
        x *= 0x846CA68Bu;
        x ^= x >> 16;
        return x;
    }

    public static uint Hash(uint seed, uint step, uint index) => Mix32(Mix32(Mix32(seed ^ 0x9E3779B9u) ^ step) ^ index);

    public static bool Keep(uint seed, uint step, uint index, float rate) => (Hash(seed, step, index) >> 8) * (1f / 16777216f) >= rate;
}

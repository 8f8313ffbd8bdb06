using Kiln.Runtime.Cpu;

namespace Kiln.Oracles;

public static class DenseReference
{
    public static double[] Forward(double[] x, double[] w, double[] bias, int batch, int inF, int outF, Epilogue act)
    {
        var y = new double[batch * outF];
        for (var b = 0; b < batch; b++)
        {
            for (var o = 0; o < outF; o++)
            {
                var s = bias[o];
                for (var i = 0; i < inF; i++)
                {
                    s += x[b * inF + i] * w[i * outF + o];
                }
                y[b * outF + o] = ActivationReference.Apply(s, act);
            }
        }
        return y;
    }

    public static double[] BackwardData(double[] dz, double[] w, int batch, int inF, int outF)
    {
        var dx = new double[batch * inF];
        for (var b = 0; b < batch; b++)
        {
            for (var i = 0; i < inF; i++)
            {
                for (var o = 0; o < outF; o++)
                {
                    dx[b * inF + i] += dz[b * outF + o] * w[i * outF + o];
                }
            }
        }
        return dx;
    }

    public static (double[] Dw, double[] Db) BackwardWeights(double[] x, double[] dz, int batch, int inF, int outF)
    {
        var dw = new double[inF * outF];
        var db = new double[outF];
        for (var b = 0; b < batch; b++)
        {
            for (var o = 0; o < outF; o++)
            {
                db[o] += dz[b * outF + o];
                for (var i = 0; i < inF; i++)
                {
                    dw[i * outF + o] += x[b * inF + i] * dz[b * outF + o];
                }
            }
        }
        return (dw, db);
    }
}

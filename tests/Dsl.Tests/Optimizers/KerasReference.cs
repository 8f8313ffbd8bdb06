namespace Kiln.Tests.Optimizers;

/// <summary>
/// Keras 3's optimizer updates (keras/src/optimizers/*.py) and gradient clipping (base_optimizer.py) in float64,
/// written from the Python source, one tensor at a time: the oracle the float32 kernels are checked against.
/// </summary>
internal static class KerasReference
{
    public sealed class State(int n, double initial = 0)
    {
        public double[] S0 = Filled(n, initial), S1 = Filled(n, initial), S2 = Filled(n, initial);
        private static double[] Filled(int n, double v) => Enumerable.Repeat(v, n).ToArray();
    }

    /// <summary>One step at 0-based <paramref name="iteration"/> with rate <paramref name="lr"/>; gradients already clipped.</summary>
    public static void Step(Optimizer optimizer, double[] p, double[] g, State s, double lr, long iteration)
    {
        var t = iteration + 1.0;
        switch (optimizer)
        {
            case Adam a:
                Adam(p, g, s, lr, a.Beta1, a.Beta2, a.Epsilon, 0, t);
                break;
            case AdamW a:
                Adam(p, g, s, lr, a.Beta1, a.Beta2, a.Epsilon, a.WeightDecay, t);
                break;
            case Sgd sgd:
                for (var i = 0; i < p.Length; i++)
                {
                    if (sgd.Momentum == 0)
                    {
                        p[i] -= g[i] * lr;
                        continue;
                    }
                    s.S0[i] = s.S0[i] * sgd.Momentum - g[i] * lr;
                    p[i] += sgd.Nesterov ? s.S0[i] * sgd.Momentum - g[i] * lr : s.S0[i];
                }
                break;
            case RmsProp r:
                for (var i = 0; i < p.Length; i++)
                {
                    s.S0[i] = r.Rho * s.S0[i] + (1 - (double)r.Rho) * g[i] * g[i];
                    double denominator;
                    if (r.Centered)
                    {
                        s.S2[i] = r.Rho * s.S2[i] + (1 - (double)r.Rho) * g[i];
                        denominator = s.S0[i] - s.S2[i] * s.S2[i] + r.Epsilon;
                    }
                    else
                    {
                        denominator = s.S0[i] + r.Epsilon;
                    }
                    var increment = lr * g[i] / Math.Sqrt(denominator);
                    if (r.Momentum > 0)
                    {
                        s.S1[i] = r.Momentum * s.S1[i] + increment;
                        p[i] -= s.S1[i];
                    }
                    else
                    {
                        p[i] -= increment;
                    }
                }
                break;
            case Adagrad a:
                for (var i = 0; i < p.Length; i++)
                {
                    s.S0[i] += g[i] * g[i];
                    p[i] -= lr * g[i] / Math.Sqrt(s.S0[i] + a.Epsilon);
                }
                break;
            default:
                throw new NotSupportedException(optimizer.GetType().Name);
        }
    }

    private static void Adam(double[] p, double[] g, State s, double lr, double b1, double b2, double eps, double wd, double t)
    {
        var alpha = lr * Math.Sqrt(1 - Math.Pow(b2, t)) / (1 - Math.Pow(b1, t));
        for (var i = 0; i < p.Length; i++)
        {
            p[i] -= p[i] * wd * lr;
            s.S0[i] += (g[i] - s.S0[i]) * (1 - b1);
            s.S1[i] += (g[i] * g[i] - s.S1[i]) * (1 - b2);
            p[i] -= s.S0[i] * alpha / (Math.Sqrt(s.S1[i]) + eps);
        }
    }

    /// <summary>Keras' <c>_clip_gradients</c> over tensors given as (offset, length) in one flat buffer.</summary>
    public static void Clip(Optimizer optimizer, double[] g, IReadOnlyList<(int Offset, int Length)> tensors)
    {
        if (optimizer.ClipNorm is { } c)
        {
            foreach (var (offset, length) in tensors)
            {
                var norm = Math.Sqrt(g.Skip(offset).Take(length).Sum(x => x * x));
                for (var i = offset; i < offset + length; i++)
                {
                    g[i] = g[i] * c / Math.Max(norm, c);
                }
            }
        }
        else if (optimizer.GlobalClipNorm is { } gc)
        {
            var norm = Math.Sqrt(g.Sum(x => x * x));
            var scale = gc * Math.Min(1 / norm, 1 / (double)gc);
            for (var i = 0; i < g.Length; i++)
            {
                g[i] *= scale;
            }
        }
        else if (optimizer.ClipValue is { } v)
        {
            for (var i = 0; i < g.Length; i++)
            {
                g[i] = Math.Clamp(g[i], -v, v);
            }
        }
    }
}

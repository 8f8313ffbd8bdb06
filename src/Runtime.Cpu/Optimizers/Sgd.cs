namespace Kiln.Runtime.Cpu;

/// <summary>Stochastic gradient descent, Keras' formulation; mirror of Runtime.Cuda/Kernels/sgd.cu.</summary>
public static class Sgd
{
    /// <summary>
    /// momentum = 0: p −= g·lr (<paramref name="velocity"/> is not touched and may be empty).
    /// Otherwise: vel = −g·lr + vel·μ; p += vel, or with Nesterov p += −g·lr + vel·μ (using the new vel).
    /// </summary>
    public static void Step(Span<float> p, ReadOnlySpan<float> g, Span<float> velocity, float lr, float momentum, bool nesterov)
    {
        Check.Length(g.Length, p.Length, nameof(g));
        if (momentum == 0f)
        {
            for (var i = 0; i < p.Length; i++)
            {
                p[i] -= g[i] * lr;
            }
            return;
        }
        Check.Length(velocity.Length, p.Length, nameof(velocity));
        for (var i = 0; i < p.Length; i++)
        {
            var step = -g[i] * lr;
            var vel = step + velocity[i] * momentum;
            velocity[i] = vel;
            p[i] += nesterov ? step + vel * momentum : vel;
        }
    }
}

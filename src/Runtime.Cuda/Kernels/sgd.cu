// SGD with optional momentum and Nesterov momentum, Keras' formulation: mirror of Runtime.Cpu/Kernels/Sgd.cs.
//   momentum == 0:  p -= g * lr                                   (m may be null)
//   otherwise:      m = -g * lr + m * momentum;  p += nesterov ? -g * lr + m * momentum : m
// Launch: block THREADS (256); grid ceil(n / 256).

namespace kiln {

__global__ void sgd(float* __restrict__ p, const float* __restrict__ g, float* __restrict__ m, int n, float lr,
                    float momentum, int nesterov)
{
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) {
        return;
    }
    const float gi = g[i];
    if (momentum == 0.0f) {
        p[i] -= gi * lr;
        return;
    }
    const float mi = -gi * lr + m[i] * momentum;
    m[i] = mi;
    p[i] += nesterov != 0 ? -gi * lr + mi * momentum : mi;
}

} // namespace kiln

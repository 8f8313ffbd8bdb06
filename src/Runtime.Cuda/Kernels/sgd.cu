// SGD with optional momentum and Nesterov momentum, Keras' formulation: mirror of Runtime.Cpu/Optimizers/Sgd.cs.
//   momentum == 0:  p -= g * lr                                   (m may be null)
//   otherwise:      m = -g * lr + m * momentum;  p += nesterov ? -g * lr + m * momentum : m
// scalars: lr, momentum, nesterov (0 or 1). Launch: block THREADS (256); grid ceil(n / 256).

namespace kiln {

__global__ void sgd(float* __restrict__ p, const float* __restrict__ g, float* __restrict__ m, float* __restrict__ unused1,
                    float* __restrict__ unused2, int n, const float* __restrict__ scalars)
{
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) {
        return;
    }
    const float lr = scalars[0], momentum = scalars[1];
    const float gi = g[i];
    if (momentum == 0.0f) {
        p[i] -= gi * lr;
        return;
    }
    const float mi = -gi * lr + m[i] * momentum;
    m[i] = mi;
    p[i] += scalars[2] != 0.0f ? -gi * lr + mi * momentum : mi;
}

} // namespace kiln

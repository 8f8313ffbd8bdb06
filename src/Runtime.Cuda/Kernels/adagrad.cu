// Adagrad, Keras' formulation: mirror of Runtime.Cpu/Optimizers/Adagrad.cs.
//   acc += g^2;  p -= lr * g / sqrt(acc + epsilon)      (the accumulator starts at Keras' 0.1)
// scalars: lr, epsilon. Launch: block THREADS (256); grid ceil(n / 256).

namespace kiln {

__global__ void adagrad(float* __restrict__ p, const float* __restrict__ g, float* __restrict__ accumulator,
                        float* __restrict__ unused1, float* __restrict__ unused2, int n, const float* __restrict__ scalars)
{
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) {
        return;
    }
    const float lr = scalars[0], epsilon = scalars[1];
    const float gi = g[i];
    const float a = accumulator[i] + gi * gi;
    accumulator[i] = a;
    p[i] -= lr * gi / sqrtf(a + epsilon);
}

} // namespace kiln

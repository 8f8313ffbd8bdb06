// Adam over one flat parameter buffer in one launch: mirror of Runtime.Cpu/Kernels/Adam.cs. Keras' formulation:
//   m += (g - m) * (1 - beta1);  v += (g^2 - v) * (1 - beta2);  p -= (m * alpha) / (sqrt(v) + epsilon)
// with alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t) computed on the host (t = 1-based step) and epsilon = 1e-7.
// Launch: block THREADS (256); grid ceil(n / 256).

namespace kiln {

__global__ void adam(float* __restrict__ p, const float* __restrict__ g, float* __restrict__ m, float* __restrict__ v,
                     int n, float alpha, float beta1, float beta2, float epsilon)
{
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) {
        return;
    }
    const float gi = g[i];
    const float mi = m[i] + (gi - m[i]) * (1.0f - beta1);
    const float vi = v[i] + (gi * gi - v[i]) * (1.0f - beta2);
    m[i] = mi;
    v[i] = vi;
    p[i] -= (mi * alpha) / (sqrtf(vi) + epsilon);
}

} // namespace kiln

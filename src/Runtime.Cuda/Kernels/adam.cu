// Adam and AdamW over one flat parameter buffer in one launch: mirror of Runtime.Cpu/Optimizers/Adam.cs. Keras' formulation:
//   (AdamW only) p -= p * weight_decay * lr
//   m += (g - m) * (1 - beta1);  v += (g^2 - v) * (1 - beta2);  p -= (m * alpha) / (sqrt(v) + epsilon)
// with alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t) computed on the host (t = 1-based step).
// Every optimizer kernel takes (p, g, slot0, slot1, slot2, n, scalars): the step's numbers are read from device
// memory (here alpha, beta1, beta2, epsilon, weight_decay, lr), so a captured graph replays with the current ones.
// Launch: block THREADS (256); grid ceil(n / 256).

namespace kiln {

__global__ void adam(float* __restrict__ p, const float* __restrict__ g, float* __restrict__ m, float* __restrict__ v,
                     float* __restrict__ unused, int n, const float* __restrict__ scalars)
{
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) {
        return;
    }
    const float alpha = scalars[0], beta1 = scalars[1], beta2 = scalars[2], epsilon = scalars[3];
    const float weight_decay = scalars[4], lr = scalars[5];
    float pi = p[i];
    if (weight_decay != 0.0f) {
        pi -= __fmul_rn(__fmul_rn(pi, weight_decay), lr);
    }
    const float gi = g[i];
    const float mi = m[i] + (gi - m[i]) * (1.0f - beta1);
    const float vi = v[i] + (gi * gi - v[i]) * (1.0f - beta2);
    m[i] = mi;
    v[i] = vi;
    p[i] = pi - (mi * alpha) / (sqrtf(vi) + epsilon);
}

} // namespace kiln

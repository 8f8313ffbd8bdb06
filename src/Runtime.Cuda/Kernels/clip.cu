// Keras' gradient clipping, before the optimizer's step: mirror of Runtime.Cpu/Optimizers/GradientClipping.cs.
//   clip_value:       g = clamp(g, -v, v)                       block THREADS; grid ceil(n / 256)
//   clip_norm:        per tensor, g = g * c / max(|g|, c)       one block of THREADS per tensor; bounds[k]..bounds[k+1]
//   clip_global_norm: s = c * min(1 / |g|, 1 / c) + (|g| - |g|) over every tensor, g *= s; one block of THREADS
// Sums of squares run in double with a fixed order (strided per thread, then a tree), so no atomics.

namespace kiln {

__global__ void clip_value(float* __restrict__ g, int n, float value)
{
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        g[i] = fminf(fmaxf(g[i], -value), value);
    }
}

// The block's sum of g^2 over [lo, hi), the same value in every thread.
__device__ double block_sum_of_squares(const float* __restrict__ g, int lo, int hi)
{
    __shared__ double sums[THREADS];
    const int t = threadIdx.x;
    double s = 0.0;
    for (int i = lo + t; i < hi; i += THREADS) {
        s += (double)g[i] * (double)g[i];
    }
    sums[t] = s;
    __syncthreads();
    for (int half = THREADS / 2; half > 0; half >>= 1) {
        if (t < half) {
            sums[t] += sums[t + half];
        }
        __syncthreads();
    }
    const double total = sums[0];
    __syncthreads();
    return total;
}

__global__ void clip_norm(float* __restrict__ g, const int* __restrict__ bounds, float clip)
{
    const int lo = bounds[blockIdx.x], hi = bounds[blockIdx.x + 1];
    const float norm = (float)sqrt(block_sum_of_squares(g, lo, hi));
    const float divisor = fmaxf(norm, clip);
    for (int i = lo + threadIdx.x; i < hi; i += THREADS) {
        g[i] = __fdiv_rn(__fmul_rn(g[i], clip), divisor);
    }
}

__global__ void clip_global_norm(float* __restrict__ g, int n, float clip)
{
    const float norm = (float)sqrt(block_sum_of_squares(g, 0, n));
    const float scale = __fmul_rn(clip, fminf(__fdiv_rn(1.0f, norm), __fdiv_rn(1.0f, clip))) + (norm - norm);
    for (int i = threadIdx.x; i < n; i += THREADS) {
        g[i] *= scale;
    }
}

} // namespace kiln

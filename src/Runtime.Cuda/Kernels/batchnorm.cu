// Batch normalization over the last axis: mirror of Runtime.Cpu/Kernels/BatchNorm.cs (Keras 3's formulas).
// x, y, dy, dx are [rows, C] with rows = batch (after Dense) or batch * H * W (after Conv2D, NHWC); gamma and beta
// may be null (scale=False: 1, center=False: 0), as may dgamma, dbeta and dx (not wanted).
//
// Training forward, four launches:        batchnorm_sums -> batchnorm_square_sums -> batchnorm_variance -> batchnorm_normalize
// Training backward, three launches:      batchnorm_backward_sums -> batchnorm_backward_params -> batchnorm_backward_data
// Inference, one launch:                  batchnorm_inference
//
// Reductions over rows are split in a fixed way: gridDim.y ranges of rows (KernelGeometry.BatchNormSplits(rows)),
// each summed by a (32, 8) block: thread (tx, ty) sums rows begin + ty, begin + ty + 8, ... of channel
// blockIdx.x * 32 + tx, then row lane 0 adds the 8 lanes in order; the next kernel adds the splits in order. No
// atomics: the same rows give the same bits. workspace holds 2 * splits * C floats.
// Launch: *_sums                       block (32, 8); grid (ceil(C / 32), splits)
//         mean/variance/params         block THREADS; grid ceil(C / THREADS)
//         normalize/inference/data     block THREADS; grid ceil(rows * C / THREADS)

namespace kiln {

enum : int { BN_CHANNELS = 32, BN_LANES = 8 };

// out[blockIdx.y * stride + c] = sum over this split's rows of term(r, c), for c = blockIdx.x * 32 + threadIdx.x below
// Width. Every thread of the block must call it; a second call needs a __syncthreads() between (shared memory).
template <int Width, class Term>
__device__ __forceinline__ void bn_split_sum(int rows, float* __restrict__ out, int stride, Term term)
{
    __shared__ float lanes[BN_LANES][BN_CHANNELS + 1];
    const int tx = threadIdx.x;
    const int ty = threadIdx.y;
    const int c = blockIdx.x * BN_CHANNELS + tx;
    const int chunk = (rows + gridDim.y - 1) / gridDim.y;
    const int begin = min(rows, (int)blockIdx.y * chunk);
    const int end = min(rows, begin + chunk);
    float s = 0.0f;
    if (c < Width) {
        for (int r = begin + ty; r < end; r += BN_LANES) {
            s += term(r, c);
        }
    }
    lanes[ty][tx] = s;
    __syncthreads();
    if (ty == 0 && c < Width) {
        float t = 0.0f;
        for (int i = 0; i < BN_LANES; ++i) {
            t += lanes[i][tx];
        }
        out[(size_t)blockIdx.y * stride + c] = t;
    }
}

// The splits' partial sums of channel c, added in order.
__device__ __forceinline__ float bn_total(const float* __restrict__ partial, int width, int c, int splits)
{
    float t = 0.0f;
    for (int s = 0; s < splits; ++s) {
        t += partial[(size_t)s * width + c];
    }
    return t;
}

// workspace[0 .. splits*C): per-split sums of x.
template <int C>
__global__ void batchnorm_sums(const float* __restrict__ x, float* __restrict__ workspace, int rows)
{
    bn_split_sum<C>(rows, workspace, C, [=](int r, int c) { return x[(size_t)r * C + c]; });
}

// mean = (sum of the splits' sums) / rows, written by the blocks of split 0 (every block computes the same bits);
// workspace[splits*C .. 2*splits*C): per-split sums of (x - mean)^2.
template <int C>
__global__ void batchnorm_square_sums(const float* __restrict__ x, float* __restrict__ mean, float* __restrict__ workspace, int rows)
{
    const int splits = gridDim.y;
    const int c = blockIdx.x * BN_CHANNELS + threadIdx.x;
    const float m = c < C ? bn_total(workspace, C, c, splits) / (float)rows : 0.0f;
    if (blockIdx.y == 0 && threadIdx.y == 0 && c < C) {
        mean[c] = m;
    }
    bn_split_sum<C>(rows, workspace + (size_t)splits * C, C, [=](int r, int) {
        const float d = x[(size_t)r * C + c] - m;
        return d * d;
    });
}

// Biased variance, inv_std = 1/sqrt(var + epsilon), and Keras' moving update moving*momentum + batch*(1 - momentum).
template <int C>
__global__ void batchnorm_variance(const float* __restrict__ workspace, const float* __restrict__ mean, float* __restrict__ inv_std,
                                   float* __restrict__ moving_mean, float* __restrict__ moving_variance, int rows, int splits,
                                   float momentum, float epsilon)
{
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= C) {
        return;
    }
    const float variance = bn_total(workspace + (size_t)splits * C, C, c, splits) / (float)rows;
    inv_std[c] = 1.0f / sqrtf(variance + epsilon);
    moving_mean[c] = __fadd_rn(__fmul_rn(moving_mean[c], momentum), __fmul_rn(mean[c], 1.0f - momentum));
    moving_variance[c] = __fadd_rn(__fmul_rn(moving_variance[c], momentum), __fmul_rn(variance, 1.0f - momentum));
}

// y = x*s + (beta - mean*s) with s = gamma * inv_std: the CPU's roundings (no contraction into FMA).
__device__ __forceinline__ float bn_apply(float x, const float* gamma, const float* beta, int c, float m, float inv)
{
    const float s = __fmul_rn(gamma ? gamma[c] : 1.0f, inv);
    const float t = __fsub_rn(beta ? beta[c] : 0.0f, __fmul_rn(m, s));
    return __fadd_rn(__fmul_rn(x, s), t);
}

template <int C>
__global__ void batchnorm_normalize(const float* __restrict__ x, const float* __restrict__ gamma, const float* __restrict__ beta,
                                    const float* __restrict__ mean, const float* __restrict__ inv_std, float* __restrict__ y, int rows)
{
    const size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < (size_t)rows * C) {
        const int c = (int)(i % C);
        y[i] = bn_apply(x[i], gamma, beta, c, mean[c], inv_std[c]);
    }
}

// Inference: the moving statistics in the same formula; 1/sqrt(var + epsilon) in double and rounded, as the CPU.
template <int C>
__global__ void batchnorm_inference(const float* __restrict__ x, const float* __restrict__ gamma, const float* __restrict__ beta,
                                    const float* __restrict__ moving_mean, const float* __restrict__ moving_variance,
                                    float* __restrict__ y, int rows, float epsilon)
{
    const size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < (size_t)rows * C) {
        const int c = (int)(i % C);
        const float inv = (float)(1.0 / sqrt((double)moving_variance[c] + (double)epsilon));
        y[i] = bn_apply(x[i], gamma, beta, c, moving_mean[c], inv);
    }
}

// workspace, per split: [sum of dy over C channels][sum of dy * xhat over C channels], xhat = (x - mean) * inv_std.
template <int C>
__global__ void batchnorm_backward_sums(const float* __restrict__ x, const float* __restrict__ dy, const float* __restrict__ mean,
                                        const float* __restrict__ inv_std, float* __restrict__ workspace, int rows)
{
    const int c = blockIdx.x * BN_CHANNELS + threadIdx.x;
    const float m = c < C ? mean[c] : 0.0f;
    const float inv = c < C ? inv_std[c] : 0.0f;
    bn_split_sum<C>(rows, workspace, 2 * C, [=](int r, int) { return dy[(size_t)r * C + c]; });
    __syncthreads();
    bn_split_sum<C>(rows, workspace + C, 2 * C, [=](int r, int) {
        const size_t i = (size_t)r * C + c;
        return dy[i] * ((x[i] - m) * inv);
    });
}

// sums[c] = sum of dy, sums[C + c] = sum of dy * xhat (the splits in order); dbeta = the first, dgamma the second
// (each written only where not null).
template <int C>
__global__ void batchnorm_backward_params(const float* __restrict__ workspace, float* __restrict__ sums, float* __restrict__ dgamma,
                                          float* __restrict__ dbeta, int splits)
{
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= C) {
        return;
    }
    const float sum_dy = bn_total(workspace, 2 * C, c, splits);
    const float sum_dy_xhat = bn_total(workspace + C, 2 * C, c, splits);
    sums[c] = sum_dy;
    sums[C + c] = sum_dy_xhat;
    if (dbeta) {
        dbeta[c] = sum_dy;
    }
    if (dgamma) {
        dgamma[c] = sum_dy_xhat;
    }
}

// dx = gamma * inv_std * (dy - sum(dy)/rows - xhat * sum(dy * xhat)/rows).
template <int C>
__global__ void batchnorm_backward_data(const float* __restrict__ x, const float* __restrict__ dy, const float* __restrict__ gamma,
                                        const float* __restrict__ mean, const float* __restrict__ inv_std, const float* __restrict__ sums,
                                        float* __restrict__ dx, int rows)
{
    const size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < (size_t)rows * C) {
        const int c = (int)(i % C);
        const float inv = inv_std[c];
        const float xhat = (x[i] - mean[c]) * inv;
        const float coefficient = (gamma ? gamma[c] : 1.0f) * inv;
        dx[i] = coefficient * (dy[i] - sums[c] / (float)rows - xhat * (sums[C + c] / (float)rows));
    }
}

} // namespace kiln

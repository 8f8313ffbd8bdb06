// 2-D convolution: mirror of Runtime.Cpu/Kernels/Conv2D.cs (Conv2DForward, Conv2DBackwardData, Conv2DBackwardWeights).
// x [batch, InH, InW, InC], w [K, K, InC, OutC] (Keras layout), b [OutC], y [batch, OutH, OutW, OutC].
// Input row ih = oh * S + kh - PadTop, column iw = ow * S + kw - PadLeft; cells outside the input read as zero
// (Keras 'same': PadTop = floor(total / 2), the extra padding at the end; 'valid': 0).
// Implicit GEMM on tile_gemm_rows4: block (TILE, TILE) = (16, 16) over 64 rows x 16 columns; sums run in ascending
// index order.

namespace kiln {

// y[n, oh, ow, oc] = act(b[oc] + sum over (kh, kw, ic) in that order of x[n, ih, iw, ic] * w[kh, kw, ic, oc]).
// Launch: grid (ceil(batch * OutH * OutW / 64), ceil(OutC / 16)), block (16, 16).
template <int InH, int InW, int InC, int OutH, int OutW, int OutC, int K, int S, int PadTop, int PadLeft, int Act>
__global__ void conv2d_forward(const float* __restrict__ x, const float* __restrict__ w, const float* __restrict__ b,
                               float* __restrict__ y, int batch)
{
    const int row0 = blockIdx.x * ROW_TILE;  // (n, oh, ow)
    const int col = blockIdx.y * TILE + threadIdx.x;  // oc
    const int M = batch * OutH * OutW;
    float acc[4];
    // Along k, (kh, kw, ic) walks contiguous channels; with one channel, consecutive rows are neighbouring pixels.
    tile_gemm_rows4<(InC < 4)>(row0, col, M, OutC, 0, K * K * InC,
        [=](int m, int k) {
            const int n = m / (OutH * OutW);
            const int p = m - n * (OutH * OutW);
            const int oh = p / OutW;
            const int ow = p - oh * OutW;
            const int kh = k / (K * InC);
            const int q = k - kh * (K * InC);
            const int kw = q / InC;
            const int ic = q - kw * InC;
            const int ih = oh * S + kh - PadTop;
            const int iw = ow * S + kw - PadLeft;
            return (ih >= 0 && ih < InH && iw >= 0 && iw < InW)
                ? x[(((size_t)n * InH + ih) * InW + iw) * InC + ic]
                : 0.0f;
        },
        [=](int k, int oc) { return w[(size_t)k * OutC + oc]; }, acc);
    if (col < OutC) {
        const float bias = b[col];
        store_rows4(row0, M, acc, [=](int row, float v) { y[(size_t)row * OutC + col] = activate<Act>(v + bias); });
    }
}

// dx[n, ih, iw, ic] = sum over (kh, kw, oc) in that order of dy[n, oh, ow, oc] * w[kh, kw, ic, oc], over the
// (oh, ow) whose window reads (ih, iw) through (kh, kw). dy is already multiplied by the activation's derivative.
// Launch: grid (ceil(batch * InH * InW / 64), ceil(InC / 16)), block (16, 16).
template <int InH, int InW, int InC, int OutH, int OutW, int OutC, int K, int S, int PadTop, int PadLeft>
__global__ void conv2d_backward_data(const float* __restrict__ dy, const float* __restrict__ w, float* __restrict__ dx,
                                     int batch)
{
    const int row0 = blockIdx.x * ROW_TILE;  // (n, ih, iw)
    const int col = blockIdx.y * TILE + threadIdx.x;  // ic
    const int M = batch * InH * InW;
    float acc[4];
    tile_gemm_rows4<(OutC < 4)>(row0, col, M, InC, 0, K * K * OutC,
        [=](int m, int k) {
            const int n = m / (InH * InW);
            const int p = m - n * (InH * InW);
            const int ih = p / InW;
            const int iw = p - ih * InW;
            const int kh = k / (K * OutC);
            const int q = k - kh * (K * OutC);
            const int kw = q / OutC;
            const int oc = q - kw * OutC;
            const int th = ih + PadTop - kh;
            const int tw = iw + PadLeft - kw;
            if (th < 0 || tw < 0 || th % S != 0 || tw % S != 0) {
                return 0.0f;
            }
            const int oh = th / S;
            const int ow = tw / S;
            return (oh < OutH && ow < OutW) ? dy[(((size_t)n * OutH + oh) * OutW + ow) * OutC + oc] : 0.0f;
        },
        [=](int k, int ic) {
            const int kk = k / OutC;  // kh * K + kw
            const int oc = k - kk * OutC;
            return w[((size_t)kk * InC + ic) * OutC + oc];
        }, acc);
    if (col < InC) {
        store_rows4(row0, M, acc, [=](int row, float v) { dx[(size_t)row * InC + col] = v; });
    }
}

// The weight gradient in two launches, without atomics and with a fixed summation order.
// 1. Split z of gridDim.z takes the z-th range of (n, oh, ow) (split_range) and writes its partial sums:
//    partial[z, r, oc] = sum over (n, oh, ow) in that range, in order, of x[n, ih, iw, ic] * dy[n, oh, ow, oc]
//    with r = (kh, kw, ic), and partial[z, K*K*InC*OutC + oc] = sum of dy[n, oh, ow, oc] over the range.
// 2. conv2d_weight_grad_reduce adds the splits in order z = 0, 1, ...
// Launch: grid (ceil(K * K * InC / 64) + 1, ceil(OutC / 16), splits), block (16, 16); the last block along x sums
// the bias gradient. partial holds splits * (K * K * InC * OutC + OutC) floats.
template <int InH, int InW, int InC, int OutH, int OutW, int OutC, int K, int S, int PadTop, int PadLeft>
__global__ void conv2d_backward_weights(const float* __restrict__ x, const float* __restrict__ dy,
                                        float* __restrict__ partial, int batch)
{
    constexpr int R = K * K * InC;
    float* out = partial + (size_t)blockIdx.z * (R * OutC + OutC);
    int begin, end;
    split_range(batch * OutH * OutW, gridDim.z, blockIdx.z, begin, end);
    if (blockIdx.x == gridDim.x - 1) {
        bias_grad_tile<OutC>(dy, out + R * OutC, begin, end);
        return;
    }
    const int row0 = blockIdx.x * ROW_TILE;  // (kh, kw, ic)
    const int col = blockIdx.y * TILE + threadIdx.x;  // oc
    float acc[4];
    tile_gemm_rows4<true>(row0, col, R, OutC, begin, end,
        [=](int r, int m) {
            const int kh = r / (K * InC);
            const int q = r - kh * (K * InC);
            const int kw = q / InC;
            const int ic = q - kw * InC;
            const int n = m / (OutH * OutW);
            const int p = m - n * (OutH * OutW);
            const int oh = p / OutW;
            const int ow = p - oh * OutW;
            const int ih = oh * S + kh - PadTop;
            const int iw = ow * S + kw - PadLeft;
            return (ih >= 0 && ih < InH && iw >= 0 && iw < InW)
                ? x[(((size_t)n * InH + ih) * InW + iw) * InC + ic]
                : 0.0f;
        },
        [=](int m, int oc) { return dy[(size_t)m * OutC + oc]; }, acc);
    if (col < OutC) {
        store_rows4(row0, R, acc, [=](int row, float v) { out[(size_t)row * OutC + col] = v; });
    }
}

// dw[i] = sum over z < splits, in order, of partial[z, i] for i < Weights; db[i - Weights] likewise for the Biases
// after them. Both are overwritten, not accumulated.
// Launch: block THREADS (256); grid ceil((Weights + Biases) / 256).
template <int Weights, int Biases>
__global__ void conv2d_weight_grad_reduce(const float* __restrict__ partial, float* __restrict__ dw,
                                          float* __restrict__ db, int splits)
{
    constexpr int Count = Weights + Biases;
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= Count) {
        return;
    }
    float s = 0.0f;
    for (int z = 0; z < splits; ++z) {
        s += partial[(size_t)z * Count + i];
    }
    if (i < Weights) {
        dw[i] = s;
    } else {
        db[i - Weights] = s;
    }
}

} // namespace kiln

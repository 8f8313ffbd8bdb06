// 2-D convolution: mirror of Runtime.Cpu/Kernels/Conv2D.cs (Conv2DForward, Conv2DBackwardData, Conv2DBackwardWeights).
// x [batch, InH, InW, InC], w [K, K, InC, OutC] (Keras layout), b [OutC], y [batch, OutH, OutW, OutC].
// Input row ih = oh * S + kh - PadTop, column iw = ow * S + kw - PadLeft; cells outside the input read as zero
// (Keras 'same': PadTop = floor(total / 2), the extra padding at the end; 'valid': 0).
// Implicit GEMM on a tiled shared-memory kernel, block (TILE, TILE) = (16, 16); sums run in ascending index order.

namespace kiln {

// y[n, oh, ow, oc] = act(b[oc] + sum over (kh, kw, ic) in that order of x[n, ih, iw, ic] * w[kh, kw, ic, oc]).
// Launch: grid (ceil(batch * OutH * OutW / 16), ceil(OutC / 16)), block (16, 16).
template <int InH, int InW, int InC, int OutH, int OutW, int OutC, int K, int S, int PadTop, int PadLeft, int Act>
__global__ void conv2d_forward(const float* __restrict__ x, const float* __restrict__ w, const float* __restrict__ b,
                               float* __restrict__ y, int batch)
{
    const int row = blockIdx.x * TILE + threadIdx.y;  // (n, oh, ow)
    const int col = blockIdx.y * TILE + threadIdx.x;  // oc
    const int M = batch * OutH * OutW;
    const float acc = tile_gemm(row, col, M, OutC, K * K * InC,
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
        [=](int k, int oc) { return w[(size_t)k * OutC + oc]; });
    if (row < M && col < OutC) {
        y[(size_t)row * OutC + col] = activate<Act>(acc + b[col]);
    }
}

// dx[n, ih, iw, ic] = sum over (kh, kw, oc) in that order of dy[n, oh, ow, oc] * w[kh, kw, ic, oc], over the
// (oh, ow) whose window reads (ih, iw) through (kh, kw). dy is already multiplied by the activation's derivative.
// Launch: grid (ceil(batch * InH * InW / 16), ceil(InC / 16)), block (16, 16).
template <int InH, int InW, int InC, int OutH, int OutW, int OutC, int K, int S, int PadTop, int PadLeft>
__global__ void conv2d_backward_data(const float* __restrict__ dy, const float* __restrict__ w, float* __restrict__ dx,
                                     int batch)
{
    const int row = blockIdx.x * TILE + threadIdx.y;  // (n, ih, iw)
    const int col = blockIdx.y * TILE + threadIdx.x;  // ic
    const int M = batch * InH * InW;
    const float acc = tile_gemm(row, col, M, InC, K * K * OutC,
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
        });
    if (row < M && col < InC) {
        dx[(size_t)row * InC + col] = acc;
    }
}

// dw[kh, kw, ic, oc] = sum over (n, oh, ow) in that order of x[n, ih, iw, ic] * dy[n, oh, ow, oc];
// db[oc] = sum over (n, oh, ow) of dy[n, oh, ow, oc]. Both are overwritten, not accumulated.
// Launch: grid (ceil(K * K * InC / 16) + 1, ceil(OutC / 16)), block (16, 16); the last block along x computes db.
template <int InH, int InW, int InC, int OutH, int OutW, int OutC, int K, int S, int PadTop, int PadLeft>
__global__ void conv2d_backward_weights(const float* __restrict__ x, const float* __restrict__ dy,
                                        float* __restrict__ dw, float* __restrict__ db, int batch)
{
    if (blockIdx.x == gridDim.x - 1) {
        bias_grad_tile<OutC>(dy, db, batch * OutH * OutW);
        return;
    }
    const int row = blockIdx.x * TILE + threadIdx.y;  // (kh, kw, ic)
    const int col = blockIdx.y * TILE + threadIdx.x;  // oc
    const int R = K * K * InC;
    const float acc = tile_gemm(row, col, R, OutC, batch * OutH * OutW,
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
        [=](int m, int oc) { return dy[(size_t)m * OutC + oc]; });
    if (row < R && col < OutC) {
        dw[(size_t)row * OutC + col] = acc;
    }
}

} // namespace kiln

// 2-D average pooling: mirror of Runtime.Cpu/Kernels/AvgPool2D.cs (AvgPool2DForward, AvgPool2DBackward).
// x [batch, InH, InW, C] -> y [batch, OutH, OutW, C]; window K x K, stride S, padding PadTop/PadLeft. Each window
// averages the cells inside the input only (Keras' same padding does not count the padding); none gives 0.

namespace kiln {

// The window (oh, ow)'s rows [kh0, kh1) and columns [kw0, kw1) inside the input.
template <int InH, int InW, int K, int S, int PadTop, int PadLeft>
__device__ __forceinline__ void avgpool_cells(int oh, int ow, int& kh0, int& kh1, int& kw0, int& kw1)
{
    const int ih0 = oh * S - PadTop;
    const int iw0 = ow * S - PadLeft;
    kh0 = max(0, -ih0);
    kh1 = min(K, InH - ih0);
    kw0 = max(0, -iw0);
    kw1 = min(K, InW - iw0);
}

// Launch: block THREADS (256); grid ceil(batch * OutH * OutW * C / 256). One thread per output: the cells summed in
// row-major window order from 0, then divided by their count, as the CPU.
template <int InH, int InW, int C, int OutH, int OutW, int K, int S, int PadTop, int PadLeft>
__global__ void avgpool2d_forward(const float* __restrict__ x, float* __restrict__ y, int batch)
{
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= batch * OutH * OutW * C) {
        return;
    }
    const int c = i % C;
    int t = i / C;
    const int ow = t % OutW;
    t /= OutW;
    const int oh = t % OutH;
    const int n = t / OutH;
    int kh0, kh1, kw0, kw1;
    avgpool_cells<InH, InW, K, S, PadTop, PadLeft>(oh, ow, kh0, kh1, kw0, kw1);
    const float* xs = x + (size_t)n * (InH * InW * C);
    float sum = 0.0f;
    for (int kh = kh0; kh < kh1; ++kh) {
        for (int kw = kw0; kw < kw1; ++kw) {
            sum += xs[((oh * S - PadTop + kh) * InW + ow * S - PadLeft + kw) * C + c];
        }
    }
    const int count = max(kh1 - kh0, 0) * max(kw1 - kw0, 0);
    y[i] = count > 0 ? sum / (float)count : 0.0f;
}

// dx[n, ih, iw, c] = sum of dy[n, oh, ow, c] / count(oh, ow) over the windows holding the cell, oh ascending then ow:
// a gather (no atomics) in the order of the CPU's scatter over outputs in row-major order.
// Launch: block THREADS (256); grid ceil(batch * InH * InW * C / 256). One thread per input element.
template <int InH, int InW, int C, int OutH, int OutW, int K, int S, int PadTop, int PadLeft>
__global__ void avgpool2d_backward(const float* __restrict__ dy, float* __restrict__ dx, int batch)
{
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= batch * InH * InW * C) {
        return;
    }
    const int c = i % C;
    int t = i / C;
    const int iw = t % InW;
    t /= InW;
    const int ih = t % InH;
    const int n = t / InH;
    // Windows oh with oh * S - PadTop <= ih <= oh * S - PadTop + K - 1.
    const int hlo = ih + PadTop - K + 1;
    const int wlo = iw + PadLeft - K + 1;
    const int oh0 = hlo <= 0 ? 0 : (hlo + S - 1) / S;
    const int ow0 = wlo <= 0 ? 0 : (wlo + S - 1) / S;
    const int oh1 = min((ih + PadTop) / S, OutH - 1);
    const int ow1 = min((iw + PadLeft) / S, OutW - 1);
    const size_t base = (size_t)n * (OutH * OutW * C);
    float sum = 0.0f;
    for (int oh = oh0; oh <= oh1; ++oh) {
        for (int ow = ow0; ow <= ow1; ++ow) {
            int kh0, kh1, kw0, kw1;
            avgpool_cells<InH, InW, K, S, PadTop, PadLeft>(oh, ow, kh0, kh1, kw0, kw1);
            sum += dy[base + (size_t)(oh * OutW + ow) * C + c] / (float)((kh1 - kh0) * (kw1 - kw0));
        }
    }
    dx[i] = sum;
}

} // namespace kiln

// 2-D max pooling: mirror of Runtime.Cpu/Kernels/MaxPool2D.cs (MaxPool2DForward, MaxPool2DBackward).
// x [batch, InH, InW, C] -> y [batch, OutH, OutW, C]; window K x K, stride S, padding PadTop/PadLeft (padded cells
// are never chosen). argmax[n, oh, ow, c] = (ih * InW + iw) * C + c, the flat index within the sample of the first
// maximum in row-major window order (kh, then kw).

namespace kiln {

// Launch: block THREADS (256); grid ceil(batch * OutH * OutW * C / 256). One thread per output element.
template <int InH, int InW, int C, int OutH, int OutW, int K, int S, int PadTop, int PadLeft>
__global__ void maxpool2d_forward(const float* __restrict__ x, float* __restrict__ y, int* __restrict__ argmax, int batch)
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
    const float* xs = x + (size_t)n * (InH * InW * C);
    float best = 0.0f;
    int index = -1;
    for (int kh = 0; kh < K; ++kh) {
        const int ih = oh * S + kh - PadTop;
        if (ih < 0 || ih >= InH) {
            continue;
        }
        for (int kw = 0; kw < K; ++kw) {
            const int iw = ow * S + kw - PadLeft;
            if (iw < 0 || iw >= InW) {
                continue;
            }
            const int at = (ih * InW + iw) * C + c;
            const float v = xs[at];
            if (index < 0 || v > best) {
                best = v;
                index = at;
            }
        }
    }
    y[i] = best;
    argmax[i] = index;
}

// dx[n, ih, iw, c] = sum of dy[n, oh, ow, c] over the windows (oh ascending, then ow) whose argmax is this element;
// a gather, so no atomics, and the same order as the CPU's scatter over outputs in row-major order.
// Launch: block THREADS (256); grid ceil(batch * InH * InW * C / 256). One thread per input element.
template <int InH, int InW, int C, int OutH, int OutW, int K, int S, int PadTop, int PadLeft>
__global__ void maxpool2d_backward(const float* __restrict__ dy, const int* __restrict__ argmax, float* __restrict__ dx,
                                   int batch)
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
    const int self = (ih * InW + iw) * C + c;
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
            const size_t o = base + (size_t)(oh * OutW + ow) * C + c;
            if (argmax[o] == self) {
                sum += dy[o];
            }
        }
    }
    dx[i] = sum;
}

} // namespace kiln

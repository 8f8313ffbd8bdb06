// Global average and max pooling: mirror of Runtime.Cpu/Kernels/GlobalPool2D.cs. x [batch, Pixels, C] (Pixels = H*W,
// NHWC) -> y [batch, C]. argmax[n, c] = p * C + c of the FIRST maximum in pixel order, an index within the sample.
// Launch: block THREADS (256); grid ceil(batch * C / 256) for the forwards, ceil(batch * Pixels * C / 256) for the
// backwards. One thread per output element; no atomics.

namespace kiln {

// y = sum over pixels (ascending, in double, as the CPU) / Pixels, rounded once.
template <int Pixels, int C>
__global__ void global_avgpool2d_forward(const float* __restrict__ x, float* __restrict__ y, int batch)
{
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= batch * C) {
        return;
    }
    const int c = i % C;
    const float* xs = x + (size_t)(i / C) * (Pixels * C) + c;
    double sum = 0.0;
    for (int p = 0; p < Pixels; ++p) {
        sum += xs[(size_t)p * C];
    }
    y[i] = (float)(sum / Pixels);
}

// dx[n, p, c] = dy[n, c] / Pixels.
template <int Pixels, int C>
__global__ void global_avgpool2d_backward(const float* __restrict__ dy, float* __restrict__ dx, int batch)
{
    const size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < (size_t)batch * Pixels * C) {
        const size_t n = i / (Pixels * C);
        dx[i] = dy[n * C + i % C] / (float)Pixels;
    }
}

// y = the maximum; argmax (may be null: inference) its index; only a strictly greater value replaces the first.
template <int Pixels, int C>
__global__ void global_maxpool2d_forward(const float* __restrict__ x, float* __restrict__ y, int* __restrict__ argmax, int batch)
{
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= batch * C) {
        return;
    }
    const int c = i % C;
    const float* xs = x + (size_t)(i / C) * (Pixels * C);
    float best = xs[c];
    int at = c;
    for (int p = 1; p < Pixels; ++p) {
        const float v = xs[p * C + c];
        if (v > best) {
            best = v;
            at = p * C + c;
        }
    }
    y[i] = best;
    if (argmax) {
        argmax[i] = at;
    }
}

// dx[n, p, c] = dy[n, c] where p * C + c is the argmax, else 0.
template <int Pixels, int C>
__global__ void global_maxpool2d_backward(const float* __restrict__ dy, const int* __restrict__ argmax, float* __restrict__ dx, int batch)
{
    const size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < (size_t)batch * Pixels * C) {
        const size_t n = i / (Pixels * C);
        const int within = (int)(i % (Pixels * C));
        const size_t o = n * C + within % C;
        dx[i] = argmax[o] == within ? dy[o] : 0.0f;
    }
}

} // namespace kiln

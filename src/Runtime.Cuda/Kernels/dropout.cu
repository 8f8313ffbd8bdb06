// Inverted dropout (training only): mirror of Runtime.Cpu/Kernels/Dropout.cs (DropoutForward, DropoutBackward).
// Element i (the flat index within the batch tensor, i = n * Features + f) is kept iff
// (kiln_hash(seed, step, i) >> 8) * 2^-24 >= rate; kept elements are divided by (1 - rate), dropped ones are zero.
// The mask is recomputed from the hash in backward, so nothing is stored. In place (x == y, dy == dx) is allowed.
// The step is read from device memory, so a captured CUDA graph replays with the current step.
// Launch: block THREADS (256); grid ceil(batch * Features / 256).

namespace kiln {

template <int Features>
__global__ void dropout_forward(const float* x, float* y, int batch, unsigned int seed, const unsigned int* __restrict__ step, float rate)
{
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < batch * Features) {
        y[i] = dropout_keep(seed, *step, (u32)i, rate) ? x[i] / (1.0f - rate) : 0.0f;
    }
}

template <int Features>
__global__ void dropout_backward(const float* dy, float* dx, int batch, unsigned int seed, const unsigned int* __restrict__ step, float rate)
{
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < batch * Features) {
        dx[i] = dropout_keep(seed, *step, (u32)i, rate) ? dy[i] / (1.0f - rate) : 0.0f;
    }
}

} // namespace kiln

// Rescaling: mirror of Runtime.Cpu/Kernels/Rescaling.cs. y = x * scale + offset (a multiply, then an add, as the CPU
// and Keras: not contracted into an FMA).
// Launch: block THREADS (256); grid ceil(batch * Features / 256).

namespace kiln {

// x == y (in place) is allowed.
template <int Features>
__global__ void rescaling_forward(const float* x, float* y, int batch, float scale, float offset)
{
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < batch * Features) {
        y[i] = __fadd_rn(__fmul_rn(x[i], scale), offset);
    }
}

// dx = dy * scale; dx == dy is allowed.
template <int Features>
__global__ void rescaling_backward(const float* dy, float* dx, int batch, float scale)
{
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < batch * Features) {
        dx[i] = dy[i] * scale;
    }
}

} // namespace kiln

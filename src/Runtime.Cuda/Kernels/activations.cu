// Activations: kiln::activation_forward / kiln::activation_backward; mirror of Runtime.Cpu/Kernels/Activations.cs.
// Usually the activation is fused into the producing layer's forward epilogue; these stand-alone kernels serve layers
// without one. Backward works in place on dy and is written from the OUTPUT y.
// Launch: block THREADS (256); grid ceil(batch * Features / 256).

namespace kiln {

// y = f(x) element-wise; x == y (in place) is allowed.
template <int Features, int Act>
__global__ void activation_forward(const float* x, float* y, int batch)
{
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < batch * Features) {
        y[i] = activate<Act>(x[i]);
    }
}

// dy *= f'(.) written from y: relu y > 0, sigmoid y(1 - y), tanh 1 - y^2, linear 1.
template <int Features, int Act>
__global__ void activation_backward(const float* __restrict__ y, float* __restrict__ dy, int batch)
{
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < batch * Features) {
        dy[i] = activation_grad<Act>(y[i], dy[i]);
    }
}

} // namespace kiln

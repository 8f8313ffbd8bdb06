// Activations: mirror of Runtime.Cpu/Kernels/Activations.cs.
// Usually the activation is fused into the producing layer's forward epilogue; activation_forward /
// activation_backward serve layers without one (Keras' default parameters; backward in place on dy, written from the
// OUTPUT y, so not for Gelu and Swish). activation_layer_forward / activation_layer_backward are the standalone
// activation layers (ReLU, LeakyReLU(negative_slope), ELU(alpha), Activation(...)): out of place, alpha passed at run
// time, and the backward reads x for Gelu and Swish (x may be null for the others) and y for the rest (y may be null
// for Gelu and Swish).
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

// dy *= f'(.) written from y (see activation_grad in 00_common.cu).
template <int Features, int Act>
__global__ void activation_backward(const float* __restrict__ y, float* __restrict__ dy, int batch)
{
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < batch * Features) {
        dy[i] = activation_grad<Act>(y[i], dy[i]);
    }
}

// y = f(x; alpha); x == y is allowed.
template <int Features, int Act>
__global__ void activation_layer_forward(const float* x, float* y, int batch, float alpha)
{
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < batch * Features) {
        y[i] = activate_with<Act>(x[i], alpha);
    }
}

// dx = dy * f'(.; alpha); dx == dy is allowed.
template <int Features, int Act>
__global__ void activation_layer_backward(const float* x, const float* y, const float* dy, float* dx, int batch, float alpha)
{
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < batch * Features) {
        if constexpr (grad_needs_input<Act>()) {
            dx[i] = activation_grad_from_input<Act>(x[i], dy[i]);
        } else {
            dx[i] = activation_grad_with<Act>(y[i], dy[i], alpha);
        }
    }
}

} // namespace kiln

// Dense (fully connected): mirror of Runtime.Cpu/Kernels/Dense.cs (DenseForward, DenseBackwardData, DenseBackwardWeights).
// x [batch, InF], w [InF, OutF] (Keras layout), b [OutF], y [batch, OutF].
// Tiled shared-memory GEMM, block (TILE, TILE) = (16, 16); every sum runs over its index in ascending order.

namespace kiln {

// y[n, o] = act(sum_i x[n, i] * w[i, o] + b[o]).
// Launch: grid (ceil(batch / 16), ceil(OutF / 16)), block (16, 16).
template <int InF, int OutF, int Act>
__global__ void dense_forward(const float* __restrict__ x, const float* __restrict__ w, const float* __restrict__ b,
                              float* __restrict__ y, int batch)
{
    const int row = blockIdx.x * TILE + threadIdx.y;
    const int col = blockIdx.y * TILE + threadIdx.x;
    const float acc = tile_gemm(row, col, batch, OutF, InF,
        [=](int n, int i) { return x[(size_t)n * InF + i]; },
        [=](int i, int o) { return w[(size_t)i * OutF + o]; });
    if (row < batch && col < OutF) {
        y[(size_t)row * OutF + col] = activate<Act>(acc + b[col]);
    }
}

// dx[n, i] = sum_o dy[n, o] * w[i, o]   (dy already multiplied by the activation's derivative).
// Launch: grid (ceil(batch / 16), ceil(InF / 16)), block (16, 16).
template <int InF, int OutF>
__global__ void dense_backward_data(const float* __restrict__ dy, const float* __restrict__ w, float* __restrict__ dx,
                                    int batch)
{
    const int row = blockIdx.x * TILE + threadIdx.y;
    const int col = blockIdx.y * TILE + threadIdx.x;
    const float acc = tile_gemm(row, col, batch, InF, OutF,
        [=](int n, int o) { return dy[(size_t)n * OutF + o]; },
        [=](int o, int i) { return w[(size_t)i * OutF + o]; });
    if (row < batch && col < InF) {
        dx[(size_t)row * InF + col] = acc;
    }
}

// dw[i, o] = sum_n x[n, i] * dy[n, o];  db[o] = sum_n dy[n, o]. Both are overwritten, not accumulated.
// Launch: grid (ceil(InF / 16) + 1, ceil(OutF / 16)), block (16, 16); the last block along x computes db.
template <int InF, int OutF>
__global__ void dense_backward_weights(const float* __restrict__ x, const float* __restrict__ dy, float* __restrict__ dw,
                                       float* __restrict__ db, int batch)
{
    if (blockIdx.x == gridDim.x - 1) {
        bias_grad_tile<OutF>(dy, db, 0, batch);
        return;
    }
    const int row = blockIdx.x * TILE + threadIdx.y;
    const int col = blockIdx.y * TILE + threadIdx.x;
    const float acc = tile_gemm(row, col, InF, OutF, batch,
        [=](int i, int n) { return x[(size_t)n * InF + i]; },
        [=](int n, int o) { return dy[(size_t)n * OutF + o]; });
    if (row < InF && col < OutF) {
        dw[(size_t)row * OutF + col] = acc;
    }
}

} // namespace kiln

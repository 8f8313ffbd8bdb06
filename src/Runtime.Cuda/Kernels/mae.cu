// Mean absolute error: mirror of Runtime.Cpu/Kernels/Losses.cs (MeanAbsoluteError).
// y, t [batch, Features]; row_loss[n] = sum_f |y - t| / Features (Keras: mean over the last axis);
// dy = sign(y - t) / (Features * batch), 0 where y == t (the gradient of the batch mean). Sum the rows with
// loss_accumulate (row_correct = null).
// Launch (row kernel): one warp per row; block 32 * ROWS_PER_BLOCK = 128; grid ceil(batch / 4).

namespace kiln {

template <int Features>
__global__ void mae(const float* __restrict__ y, const float* __restrict__ t, float* __restrict__ dy,
                    float* __restrict__ row_loss, int batch)
{
    const int lane = threadIdx.x & 31;
    const int row = blockIdx.x * ROWS_PER_BLOCK + (threadIdx.x >> 5);
    if (row >= batch) {
        return;
    }
    const float scale = 1.0f / ((float)Features * (float)batch);
    float s = 0.0f;
    for (int j = lane; j < Features; j += 32) {
        const size_t i = (size_t)row * Features + j;
        const float d = y[i] - t[i];
        s += fabsf(d);
        dy[i] = d > 0.0f ? scale : d < 0.0f ? -scale : 0.0f;
    }
    s = warp_sum(s);
    if (lane == 0) {
        row_loss[row] = s / (float)Features;
    }
}

} // namespace kiln

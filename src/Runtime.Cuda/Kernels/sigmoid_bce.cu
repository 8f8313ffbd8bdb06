// Sigmoid + binary cross-entropy + gradient, fused: mirror of Runtime.Cpu/Kernels/Losses.cs
// (SigmoidBinaryCrossEntropy). logits [batch, Size] (the last Dense layer's linear output), targets [batch, Size],
// probs [batch, Size] = sigmoid(z) (may be null), dlogits = (sigmoid(z) - t) / (Size * batch),
// row_loss [batch] = mean over the row of max(z, 0) - z t + log(1 + exp(-|z|)),
// row_correct [batch] = how many of the row's outputs have sigmoid(z) > 0.5 agreeing with t > 0.5.
// Launch (row kernels): one warp per row; block 32 * ROWS_PER_BLOCK = 128; grid ceil(batch / 4).

namespace kiln {

template <int Size>
__global__ void sigmoid_bce(const float* __restrict__ logits, const float* __restrict__ targets, float* __restrict__ probs,
                            float* __restrict__ dlogits, float* __restrict__ row_loss, int* __restrict__ row_correct, int batch)
{
    const int lane = threadIdx.x & 31;
    const int row = blockIdx.x * ROWS_PER_BLOCK + (threadIdx.x >> 5);
    if (row >= batch) {
        return;  // the whole warp leaves together
    }
    const float scale = (float)Size * (float)batch;
    float loss = 0.0f;
    int correct = 0;
    for (int j = lane; j < Size; j += 32) {
        const size_t i = (size_t)row * Size + j;
        const float z = logits[i], t = targets[i];
        const float e = expf(-fabsf(z));
        const float p = z >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
        loss += fmaxf(z, 0.0f) - z * t + log1pf(e);
        if (probs != nullptr) {
            probs[i] = p;
        }
        dlogits[i] = (p - t) / scale;
        correct += (p > 0.5f) == (t > 0.5f) ? 1 : 0;
    }
    loss = warp_sum(loss);
    for (int offset = 16; offset > 0; offset >>= 1) {
        correct += __shfl_xor_sync(0xffffffffu, correct, offset);
    }
    if (lane == 0) {
        row_loss[row] = loss / (float)Size;
        row_correct[row] = correct;
    }
}

} // namespace kiln

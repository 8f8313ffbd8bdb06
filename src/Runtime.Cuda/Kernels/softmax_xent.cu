// Softmax + cross-entropy + gradient, fused: mirror of Runtime.Cpu/Kernels/SoftmaxCrossEntropy.cs.
// logits [batch, Classes] (the last Dense layer's linear output), probs [batch, Classes] (may be null),
// dlogits [batch, Classes] = (p - target) / batch, row_loss [batch], row_correct [batch] (1 when the first maximum
// of p is the label). Per row: m = max z, s = sum exp(z - m), p = exp(z - m) / s, loss = log(s) - (z[label] - m).
// Launch (row kernels): one warp per row; block 32 * ROWS_PER_BLOCK = 128; grid ceil(batch / 4).

namespace kiln {

// One warp's softmax statistics of a row: m = max z and s = sum exp(z - m), in a fixed order; every lane gets both.
template <int Classes>
__device__ __forceinline__ void row_max_and_sum(const float* z, int lane, float& m, float& s)
{
    m = neg_infinity();
    for (int j = lane; j < Classes; j += 32) {
        m = fmaxf(m, z[j]);
    }
    m = warp_max(m);
    s = 0.0f;
    for (int j = lane; j < Classes; j += 32) {
        s += expf(z[j] - m);
    }
    s = warp_sum(s);
}

// Sparse labels (int class index per row). A label outside [0, Classes) gives a NaN loss and no one-hot.
template <int Classes>
__global__ void softmax_xent_sparse(const float* __restrict__ logits, const int* __restrict__ labels,
                                    float* __restrict__ probs, float* __restrict__ dlogits, float* __restrict__ row_loss,
                                    int* __restrict__ row_correct, int batch)
{
    const int lane = threadIdx.x & 31;
    const int row = blockIdx.x * ROWS_PER_BLOCK + (threadIdx.x >> 5);
    if (row >= batch) {
        return;  // the whole warp leaves together
    }
    const float* z = logits + (size_t)row * Classes;
    float m, s;
    row_max_and_sum<Classes>(z, lane, m, s);
    const int label = labels[row];
    float best = -1.0f;
    int bestIndex = Classes;
    for (int j = lane; j < Classes; j += 32) {
        const float p = expf(z[j] - m) / s;
        if (probs != nullptr) {
            probs[(size_t)row * Classes + j] = p;
        }
        dlogits[(size_t)row * Classes + j] = (p - (j == label ? 1.0f : 0.0f)) / (float)batch;
        if (p > best) {
            best = p;
            bestIndex = j;
        }
    }
    warp_argmax(best, bestIndex);
    if (lane == 0) {
        const float zl = (label >= 0 && label < Classes) ? z[label] : quiet_nan();
        row_loss[row] = logf(s) - (zl - m);
        row_correct[row] = bestIndex == label ? 1 : 0;
    }
}

// Dense (one-hot or soft) targets [batch, Classes]: loss = sum_j t_j * (log(s) - (z_j - m)) over t_j != 0;
// dlogits = (p * sum_j t_j - t) / batch; correct when the first maximum of p is the first maximum of t.
template <int Classes>
__global__ void softmax_xent_dense(const float* __restrict__ logits, const float* __restrict__ targets,
                                   float* __restrict__ probs, float* __restrict__ dlogits, float* __restrict__ row_loss,
                                   int* __restrict__ row_correct, int batch)
{
    const int lane = threadIdx.x & 31;
    const int row = blockIdx.x * ROWS_PER_BLOCK + (threadIdx.x >> 5);
    if (row >= batch) {
        return;
    }
    const float* z = logits + (size_t)row * Classes;
    const float* t = targets + (size_t)row * Classes;
    float m, s;
    row_max_and_sum<Classes>(z, lane, m, s);
    const float logS = logf(s);
    float total = 0.0f;  // sum of the targets: the gradient of -sum t log p is p * sum(t) - t
    for (int j = lane; j < Classes; j += 32) {
        total += t[j];
    }
    total = warp_sum(total);
    float loss = 0.0f;
    float best = -1.0f;
    int bestIndex = Classes;
    float bestT = neg_infinity();
    int bestTIndex = Classes;
    for (int j = lane; j < Classes; j += 32) {
        const float p = expf(z[j] - m) / s;
        const float tj = t[j];
        if (probs != nullptr) {
            probs[(size_t)row * Classes + j] = p;
        }
        dlogits[(size_t)row * Classes + j] = (p * total - tj) / (float)batch;
        if (tj != 0.0f) {
            loss += tj * (logS - (z[j] - m));
        }
        if (p > best) {
            best = p;
            bestIndex = j;
        }
        if (tj > bestT) {
            bestT = tj;
            bestTIndex = j;
        }
    }
    loss = warp_sum(loss);
    warp_argmax(best, bestIndex);
    warp_argmax(bestT, bestTIndex);
    if (lane == 0) {
        row_loss[row] = loss;
        row_correct[row] = bestIndex == bestTIndex ? 1 : 0;
    }
}

// Softmax alone, for prediction. Launch as the row kernels above.
template <int Classes>
__global__ void softmax_forward(const float* __restrict__ logits, float* __restrict__ probs, int batch)
{
    const int lane = threadIdx.x & 31;
    const int row = blockIdx.x * ROWS_PER_BLOCK + (threadIdx.x >> 5);
    if (row >= batch) {
        return;
    }
    const float* z = logits + (size_t)row * Classes;
    float m, s;
    row_max_and_sum<Classes>(z, lane, m, s);
    for (int j = lane; j < Classes; j += 32) {
        probs[(size_t)row * Classes + j] = expf(z[j] - m) / s;
    }
}

// Adds this batch's per-row losses (and correct flags, when row_correct is not null) to device accumulators:
// loss_sum[0] += sum of row_loss (in double), correct_sum[0] += sum of row_correct. Fixed order: thread t sums rows
// t, t + 256, ... then a shared-memory tree halves 256 -> 1. Launch: grid 1, block THREADS (exactly 256).
__global__ void loss_accumulate(const float* __restrict__ row_loss, const int* __restrict__ row_correct,
                                double* __restrict__ loss_sum, int* __restrict__ correct_sum, int batch)
{
    __shared__ double losses[THREADS];
    __shared__ int counts[THREADS];
    const int t = threadIdx.x;
    double l = 0.0;
    int c = 0;
    for (int r = t; r < batch; r += THREADS) {
        l += (double)row_loss[r];
        if (row_correct != nullptr) {
            c += row_correct[r];
        }
    }
    losses[t] = l;
    counts[t] = c;
    __syncthreads();
    for (int half = THREADS / 2; half > 0; half >>= 1) {
        if (t < half) {
            losses[t] += losses[t + half];
            counts[t] += counts[t + half];
        }
        __syncthreads();
    }
    if (t == 0) {
        loss_sum[0] += losses[0];
        if (row_correct != nullptr) {
            correct_sum[0] += counts[0];
        }
    }
}

} // namespace kiln

// Kiln CUDA kernel library: shared helpers. This file is concatenated first (see KernelSources); the kernel files
// use no include directives because NVRTC has no file system here.
//
// Conventions (the same contract as Kiln.Runtime.Cpu):
//  * Tensors are float32, NHWC, batch-major; a sample's features are contiguous.
//  * Shapes are template parameters; the batch size is the only run-time shape.
//  * Activation codes (= Kiln.Activation = Kiln.Runtime.Cpu.Epilogue): 0 Linear, 1 Relu, 2 Sigmoid, 3 Tanh,
//    5 LeakyRelu, 6 Elu, 7 Gelu, 8 Swish, 9 Softplus (4 is softmax, not element-wise). Fused into the forward
//    epilogue (bias + activation) with Keras' default parameters (LeakyReLU slope 0.2, ELU alpha 1); the standalone
//    activation layers (activations.cu) take their own. The backward written from the output y refuses Gelu and
//    Swish at compile time: their derivative needs the input.
//  * No atomics: every output element is written by one thread with a fixed reduction order, so two runs give the
//    same bits.
//  * Launch shapes (KernelGeometry in C# computes them):
//      GEMM-style kernels  block (TILE, TILE); grid.x tiles the output rows, grid.y the output columns;
//                          row = blockIdx.x*TILE + threadIdx.y, col = blockIdx.y*TILE + threadIdx.x.
//                          *_backward_weights add one more block along x that computes the bias gradient.
//      convolutions        block (TILE, TILE) over ROW_TILE (64) rows x TILE columns, four rows per thread;
//                          the weight gradient also splits its sum over grid.z (see split_range).
//      elementwise kernels block THREADS; grid ceil(n / THREADS).
//      row kernels         one warp per row: block 32*ROWS_PER_BLOCK; grid ceil(batch / ROWS_PER_BLOCK).

namespace kiln {

typedef unsigned int u32;

enum : int {
    ACT_LINEAR = 0, ACT_RELU = 1, ACT_SIGMOID = 2, ACT_TANH = 3,
    ACT_LEAKY_RELU = 5, ACT_ELU = 6, ACT_GELU = 7, ACT_SWISH = 8, ACT_SOFTPLUS = 9
};

// Enumerators, not constexpr variables: a namespace-scope variable would become an internal symbol whose mangled
// name NVRTC salts per compilation, and the image would differ from run to run.
enum : int { TILE = 16, THREADS = 256, ROWS_PER_BLOCK = 4, ROW_TILE = 64, MAX_SPLITS = 256 };

// No <math.h> / <cmath> under NVRTC here: spell the special values out.
__device__ __forceinline__ float neg_infinity() { return __int_as_float(0xFF800000); }
__device__ __forceinline__ float quiet_nan() { return __int_as_float(0x7FC00000); }

// f(v) with parameter alpha (the LeakyReLU slope or the ELU alpha; ignored by the others).
template <int Act>
__device__ __forceinline__ float activate_with(float v, float alpha)
{
    if constexpr (Act == ACT_RELU) {
        return v > 0.0f ? v : 0.0f;
    } else if constexpr (Act == ACT_SIGMOID) {
        return 1.0f / (1.0f + expf(-v));
    } else if constexpr (Act == ACT_TANH) {
        return tanhf(v);
    } else if constexpr (Act == ACT_LEAKY_RELU) {
        return v > 0.0f ? v : alpha * v;
    } else if constexpr (Act == ACT_ELU) {
        return v > 0.0f ? v : alpha * expm1f(v);
    } else if constexpr (Act == ACT_GELU) {
        // x * Phi(x) = 0.5 x erfc(-x / sqrt 2): no cancellation in the negative tail.
        return 0.5f * v * erfcf(-0.70710678118654752f * v);
    } else if constexpr (Act == ACT_SWISH) {
        return v / (1.0f + expf(-v));
    } else if constexpr (Act == ACT_SOFTPLUS) {
        return fmaxf(v, 0.0f) + log1pf(expf(-fabsf(v)));
    } else {
        static_assert(Act == ACT_LINEAR, "unknown activation code");
        return v;
    }
}

// Keras' defaults for the fused epilogue (Kiln.Runtime.Cpu.Activations.LeakyReluSlope and EluAlpha).
template <int Act>
__device__ __forceinline__ float default_alpha()
{
    return Act == ACT_LEAKY_RELU ? 0.2f : Act == ACT_ELU ? 1.0f : 0.0f;
}

// The fused epilogue: f(v) with Keras' default parameters.
template <int Act>
__device__ __forceinline__ float activate(float v)
{
    return activate_with<Act>(v, default_alpha<Act>());
}

// True for the activations whose derivative is not a function of the output.
template <int Act>
__device__ __forceinline__ constexpr bool grad_needs_input()
{
    return Act == ACT_GELU || Act == ACT_SWISH;
}

// dy * f'(x), with f' written from the output y = f(x): relu y > 0, sigmoid y(1 - y), tanh 1 - y^2,
// leaky_relu y > 0 ? 1 : alpha, elu y > 0 ? 1 : y + alpha, softplus -expm1(-y) (= sigmoid(x)).
template <int Act>
__device__ __forceinline__ float activation_grad_with(float y, float dy, float alpha)
{
    static_assert(!grad_needs_input<Act>(), "Gelu and Swish need the input: use activation_grad_from_input");
    if constexpr (Act == ACT_RELU) {
        return y > 0.0f ? dy : 0.0f;
    } else if constexpr (Act == ACT_SIGMOID) {
        return dy * (y * (1.0f - y));
    } else if constexpr (Act == ACT_TANH) {
        return dy * (1.0f - y * y);
    } else if constexpr (Act == ACT_LEAKY_RELU) {
        return y > 0.0f ? dy : dy * alpha;
    } else if constexpr (Act == ACT_ELU) {
        return y > 0.0f ? dy : dy * (y + alpha);
    } else if constexpr (Act == ACT_SOFTPLUS) {
        return dy * -expm1f(-y);
    } else {
        static_assert(Act == ACT_LINEAR, "unknown activation code");
        return dy;
    }
}

template <int Act>
__device__ __forceinline__ float activation_grad(float y, float dy)
{
    return activation_grad_with<Act>(y, dy, default_alpha<Act>());
}

// dy * f'(x) from the input, for Gelu (Phi(x) + x phi(x)) and Swish (s (1 + x (1 - s)), s = sigmoid(x)).
template <int Act>
__device__ __forceinline__ float activation_grad_from_input(float x, float dy)
{
    static_assert(grad_needs_input<Act>(), "only Gelu and Swish read the input");
    if constexpr (Act == ACT_GELU) {
        return dy * (0.5f * erfcf(-0.70710678118654752f * x) + x * expf(-0.5f * x * x) * 0.3989422804014327f);
    } else {
        const float s = 1.0f / (1.0f + expf(-x));
        return dy * (s * (1.0f + x * (1.0f - s)));
    }
}

// Counter-based hash for dropout masks; Kiln.Runtime.Cpu computes the same function.
//   mix32(x) = x ^= x >> 16; x *= 0x7FEB352D; x ^= x >> 15; x *= 0x846CA68B; x ^= x >> 16   (all mod 2^32)
//   kiln_hash(seed, step, index) = mix32(mix32(mix32(seed ^ 0x9E3779B9) ^ step) ^ index)
__device__ __forceinline__ u32 kiln_mix32(u32 x)
{
    x ^= x >> 16;
    x *= 0x7FEB352Du;
    x ^= x >> 15;
    x *= 0x846CA68Bu;
    x ^= x >> 16;
    return x;
}

__device__ __forceinline__ u32 kiln_hash(u32 seed, u32 step, u32 index)
{
    u32 h = kiln_mix32(seed ^ 0x9E3779B9u);
    h = kiln_mix32(h ^ step);
    return kiln_mix32(h ^ index);
}

// True when element `index` survives dropout at `rate`: (hash >> 8) * 2^-24 >= rate.
__device__ __forceinline__ bool dropout_keep(u32 seed, u32 step, u32 index, float rate)
{
    return (float)(kiln_hash(seed, step, index) >> 8) * (1.0f / 16777216.0f) >= rate;
}

// C[row, col] = sum over k = 0, 1, ..., Kd-1 (in that order) of A(row, k) * B(k, col), for the calling thread's
// (row, col) in a TILE x TILE block. Every thread of the block must call it (it synchronises); rows >= M or
// columns >= N compute garbage that the caller does not store. loadA / loadB are called only in range.
template <class LoadA, class LoadB>
__device__ __forceinline__ float tile_gemm(int row, int col, int M, int N, int Kd, LoadA loadA, LoadB loadB)
{
    __shared__ float As[TILE][TILE + 1];
    __shared__ float Bs[TILE][TILE + 1];
    const int tx = threadIdx.x;
    const int ty = threadIdx.y;
    float acc = 0.0f;
    for (int k0 = 0; k0 < Kd; k0 += TILE) {
        const int ka = k0 + tx;
        As[ty][tx] = (row < M && ka < Kd) ? loadA(row, ka) : 0.0f;
        const int kb = k0 + ty;
        Bs[ty][tx] = (kb < Kd && col < N) ? loadB(kb, col) : 0.0f;
        __syncthreads();
        const int kn = Kd - k0 < TILE ? Kd - k0 : TILE;
        for (int kk = 0; kk < kn; ++kk) {
            acc += As[ty][kk] * Bs[kk][tx];
        }
        __syncthreads();
    }
    return acc;
}

// out[c] = sum over r in [begin, end) of dy[r * Cols + c], for c = blockIdx.y * TILE + threadIdx.x. Thread row ty
// sums r = begin + ty, begin + ty + TILE, ... in order; then thread row 0 adds the TILE partial sums in order
// ty = 0 .. TILE-1. Every thread of the block must call it.
template <int Cols>
__device__ __forceinline__ void bias_grad_tile(const float* __restrict__ dy, float* __restrict__ out, int begin, int end)
{
    __shared__ float part[TILE][TILE + 1];
    const int tx = threadIdx.x;
    const int ty = threadIdx.y;
    const int c = blockIdx.y * TILE + tx;
    float s = 0.0f;
    if (c < Cols) {
        for (int r = begin + ty; r < end; r += TILE) {
            s += dy[(size_t)r * Cols + c];
        }
    }
    part[ty][tx] = s;
    __syncthreads();
    if (ty == 0 && c < Cols) {
        float t = 0.0f;
        for (int i = 0; i < TILE; ++i) {
            t += part[i][tx];
        }
        out[c] = t;
    }
}

// C[row0 + 4*ty + i, col] (i < 4) = sum over k in [kbegin, kend), ascending, of A(row, k) * B(k, col), for a
// (TILE, TILE) block that covers ROW_TILE rows and TILE columns (col = blockIdx.y * TILE + threadIdx.x). Four rows
// per thread read one float4 of A per k from shared memory, so the loop is FMA-bound rather than bound by shared
// loads as tile_gemm's one output per thread is. RowFast picks which index the 256 threads' global loads of A
// walk fastest: true for rows (consecutive rows adjacent in memory), false for k. Every thread must call it;
// rows >= M or columns >= N compute values the caller does not store.
template <bool RowFast, class LoadA, class LoadB>
__device__ __forceinline__ void tile_gemm_rows4(int row0, int col, int M, int N, int kbegin, int kend, LoadA loadA,
                                                LoadB loadB, float (&acc)[4])
{
    __shared__ __align__(16) float As[TILE][ROW_TILE + 4];  // [k][row]
    __shared__ float Bs[TILE][TILE + 1];
    const int tx = threadIdx.x;
    const int ty = threadIdx.y;
    const int t = ty * TILE + tx;
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        acc[i] = 0.0f;
    }
    for (int k0 = kbegin; k0 < kend; k0 += TILE) {
#pragma unroll
        for (int j = 0; j < 4; ++j) {
            const int e = t + j * (TILE * TILE);
            const int r = RowFast ? e % ROW_TILE : e / TILE;
            const int k = RowFast ? e / ROW_TILE : e % TILE;
            const int row = row0 + r;
            const int ka = k0 + k;
            As[k][r] = (row < M && ka < kend) ? loadA(row, ka) : 0.0f;
        }
        const int kb = k0 + ty;
        Bs[ty][tx] = (kb < kend && col < N) ? loadB(kb, col) : 0.0f;
        __syncthreads();
        // Past kend both tiles hold zeros, so the full unrolled loop adds exact zeros.
#pragma unroll
        for (int kk = 0; kk < TILE; ++kk) {
            const float4 a = *reinterpret_cast<const float4*>(&As[kk][4 * ty]);
            const float b = Bs[kk][tx];
            acc[0] += a.x * b;
            acc[1] += a.y * b;
            acc[2] += a.z * b;
            acc[3] += a.w * b;
        }
        __syncthreads();
    }
}

// The four rows tile_gemm_rows4 summed for this thread: store(row, acc[i]) for those below M.
template <class Store>
__device__ __forceinline__ void store_rows4(int row0, int M, const float (&acc)[4], Store store)
{
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        const int row = row0 + 4 * threadIdx.y + i;
        if (row < M) {
            store(row, acc[i]);
        }
    }
}

// The z-th of `splits` ranges of [0, total): each holds a whole number of TILE steps, and the last ones may be empty.
// KernelGeometry.WeightSplits chooses `splits` on the host.
__device__ __forceinline__ void split_range(int total, int splits, int z, int& begin, int& end)
{
    const int chunk = ((total + splits - 1) / splits + TILE - 1) / TILE * TILE;
    begin = min(total, z * chunk);
    end = min(total, begin + chunk);
}

// Butterfly reductions over a full warp: every lane ends with the same bits (each level adds the same pair).
__device__ __forceinline__ float warp_sum(float v)
{
    for (int o = 16; o > 0; o >>= 1) {
        v += __shfl_xor_sync(0xFFFFFFFFu, v, o);
    }
    return v;
}

__device__ __forceinline__ float warp_max(float v)
{
    for (int o = 16; o > 0; o >>= 1) {
        v = fmaxf(v, __shfl_xor_sync(0xFFFFFFFFu, v, o));
    }
    return v;
}

// Arg-max over a warp; ties go to the lowest index (the first maximum).
__device__ __forceinline__ void warp_argmax(float& value, int& index)
{
    for (int o = 16; o > 0; o >>= 1) {
        const float v = __shfl_xor_sync(0xFFFFFFFFu, value, o);
        const int i = __shfl_xor_sync(0xFFFFFFFFu, index, o);
        if (v > value || (v == value && i < index)) {
            value = v;
            index = i;
        }
    }
}

} // namespace kiln

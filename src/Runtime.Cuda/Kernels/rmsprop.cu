// RMSprop, Keras' formulation: mirror of Runtime.Cpu/Optimizers/RmsProp.cs.
//   v = rho * v + (1 - rho) * g^2
//   centered: a = rho * a + (1 - rho) * g; denominator = v - a^2 + epsilon; otherwise denominator = v + epsilon
//   inc = lr * g / sqrt(denominator); momentum > 0: mom = momentum * mom + inc, p -= mom; otherwise p -= inc
// Slots: velocity, momentum (null unless momentum > 0), average gradient (null unless centered).
// scalars: lr, rho, momentum, epsilon, centered (0 or 1). Launch: block THREADS (256); grid ceil(n / 256).

namespace kiln {

__global__ void rmsprop(float* __restrict__ p, const float* __restrict__ g, float* __restrict__ velocity,
                        float* __restrict__ mom, float* __restrict__ average, int n, const float* __restrict__ scalars)
{
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) {
        return;
    }
    const float lr = scalars[0], rho = scalars[1], momentum = scalars[2], epsilon = scalars[3], decay = 1.0f - rho;
    const float gi = g[i];
    const float v = rho * velocity[i] + decay * (gi * gi);
    velocity[i] = v;
    float denominator;
    if (scalars[4] != 0.0f) {
        const float a = rho * average[i] + decay * gi;
        average[i] = a;
        denominator = v - a * a + epsilon;
    } else {
        denominator = v + epsilon;
    }
    const float increment = lr * gi / sqrtf(denominator);
    if (momentum > 0.0f) {
        const float mi = momentum * mom[i] + increment;
        mom[i] = mi;
        p[i] -= mi;
    } else {
        p[i] -= increment;
    }
}

} // namespace kiln

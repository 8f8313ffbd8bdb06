namespace Kiln.Execution;

/// <summary>
/// A network instantiated on one device. Generated code implements it for the CPU and CUDA;
/// <see cref="Network"/> drives it.
/// </summary>
/// <remarks>
/// Not thread-safe: one caller at a time. <see cref="Network"/> keeps one executor for training and gives every
/// concurrent inference caller an executor of its own (see <c>ExecutorPool</c>), so implementations need no locks.
/// </remarks>
public interface IExecutor : IDisposable
{
    /// <summary>A short description such as "CPU" or "CUDA 0: NVIDIA H100".</summary>
    string DeviceName { get; }

    void WriteParameters(ReadOnlySpan<float> values);
    void ReadParameters(Span<float> values);

    /// <summary>Selects the optimizer; a different instance than before starts from fresh state.</summary>
    void SetOptimizer(Optimizer optimizer);

    /// <summary>Updates the current optimizer has taken (Keras' <c>iterations</c>): schedules are evaluated at it.</summary>
    long OptimizerIterations { get; }

    /// <summary>A copy of the current optimizer's state (slots, iterations) and the training step counter.</summary>
    OptimizerState ReadOptimizerState();

    /// <summary>Restores what <see cref="ReadOptimizerState"/> returned, for the optimizer already selected.</summary>
    void WriteOptimizerState(OptimizerState state);

    /// <summary>Forward, loss, backward and update on one validated batch; adds to the running metrics.</summary>
    void TrainStep(Batch batch);

    /// <summary>Forward (inference mode) and loss on one validated batch; adds to the running metrics.</summary>
    void EvaluateStep(Batch batch);

    /// <summary>
    /// <see cref="TrainStep(Batch)"/> with each example's loss and gradient times its weight (Keras' <c>sample_weight</c>,
    /// or <c>class_weight</c> turned into one): Σ w·loss / batch size. Executors without weighted heads (CUDA, today)
    /// refuse it.
    /// </summary>
    /// <exception cref="NotSupportedException">This executor has no weighted loss.</exception>
    void TrainStep(Batch batch, ReadOnlySpan<float> weights) => throw WeightsUnsupported();

    /// <summary><see cref="EvaluateStep(Batch)"/> with per-example loss weights, as <see cref="TrainStep(Batch, ReadOnlySpan{float})"/>.</summary>
    /// <exception cref="NotSupportedException">This executor has no weighted loss.</exception>
    void EvaluateStep(Batch batch, ReadOnlySpan<float> weights) => throw WeightsUnsupported();

    private NotSupportedException WeightsUnsupported() =>
        new($"Sample and class weights run on the CPU only; {DeviceName} has no weighted loss. Create the network with Device.Cpu, or drop the weights.");

    /// <summary>The metrics accumulated since the last reset (a device executor reads them back here).</summary>
    Metrics ReadMetrics();

    void ResetMetrics();

    /// <summary>Outputs (probabilities for a softmax head) for <paramref name="count"/> examples.</summary>
    void Predict(ReadOnlySpan<float> features, int count, Span<float> outputs);

    /// <summary>Frees the per-batch buffers, or shrinks them to one example's; the parameters and optimizer state stay.</summary>
    void ReleaseBuffers();
}

/// <summary>
/// What a resumed run needs besides the weights: the optimizer's slots over the trainable prefix (empty when
/// unused), its iteration count, and the training step counter that keys dropout masks. Immutable by convention.
/// </summary>
public sealed record OptimizerState(long Iterations, uint Step, float[][] Slots);

/// <summary>Everything an executor is created with.</summary>
public sealed record ExecutorContext(NetworkInfo Info, bool UseCuda, int CudaOrdinal, uint Seed);

/// <summary>
/// Running sums over the examples seen since the last reset. <see cref="Correct"/> counts examples whose class is
/// right, or for binary crossentropy the outputs that are right (up to Count × outputs). <see cref="AbsoluteErrorSum"/>
/// sums each example's mean |output − target| (a regression's <c>mae</c>); NaN where the executor does not track it.
/// </summary>
public readonly record struct Metrics(double LossSum, long Correct, long Count, double AbsoluteErrorSum = double.NaN)
{
    public double Loss => Count == 0 ? double.NaN : LossSum / Count;
    public double Accuracy => Count == 0 ? double.NaN : (double)Correct / Count;
    /// <summary>Keras' <c>mae</c>: the mean over examples of their mean absolute error.</summary>
    public double MeanAbsoluteError => Count == 0 ? double.NaN : AbsoluteErrorSum / Count;
}

/// <summary>Thrown by an executor when a step's loss is NaN or infinite.</summary>
public sealed class NonFiniteLossException(double loss) : ArithmeticException($"The loss became {loss}.")
{
    public double Loss { get; } = loss;
}

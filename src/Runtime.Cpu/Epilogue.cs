namespace Kiln.Runtime.Cpu;

/// <summary>The activation fused into a forward kernel after the bias (codes 0..3, as in the CUDA kernels).</summary>
public enum Epilogue
{
    Linear,
    Relu,
    Sigmoid,
    Tanh,
}

namespace Kiln.Runtime.Cuda;

/// <summary>A CUDA driver call failed, or the driver library could not be loaded.</summary>
/// <remarks>The message names the call, the driver's error name (cuGetErrorName) and its description (cuGetErrorString).</remarks>
public sealed class CudaException : Exception
{
    public CudaException(string call, int errorCode, string errorName, string description)
        : base($"{call} failed: {errorName} ({errorCode}): {description}")
    {
        Call = call;
        ErrorCode = errorCode;
        ErrorName = errorName;
    }

    public CudaException(string message) : base(message)
    {
        Call = "";
        ErrorName = "";
    }

    public CudaException(string message, Exception innerException) : base(message, innerException)
    {
        Call = "";
        ErrorName = "";
    }

    /// <summary>The driver entry point that failed, e.g. <c>cuMemAlloc_v2</c>; <c>dlopen</c> when libcuda is missing.</summary>
    public string Call { get; }

    /// <summary>The CUresult value; -1 when the library could not be loaded.</summary>
    public int ErrorCode { get; }

    /// <summary>The CUresult's name, e.g. <c>CUDA_ERROR_OUT_OF_MEMORY</c>.</summary>
    public string ErrorName { get; }
}

namespace Kiln.Runtime.Cuda;

/// <summary>An NVRTC call failed, NVRTC could not be loaded, or a kernel did not compile.</summary>
/// <remarks>For compile failures the message ends with the whole NVRTC log, which is also in <see cref="Log"/>.</remarks>
public sealed class NvrtcException : Exception
{
    public NvrtcException(string call, int errorCode, string errorName, string detail, string log = "")
        : base(Format(call, errorCode, errorName, detail, log))
    {
        Call = call;
        ErrorCode = errorCode;
        ErrorName = errorName;
        Log = log;
    }

    public NvrtcException(string message) : base(message)
    {
        Call = "";
        ErrorName = "";
        Log = "";
    }

    public NvrtcException(string message, Exception innerException) : base(message, innerException)
    {
        Call = "";
        ErrorName = "";
        Log = "";
    }

    /// <summary>The NVRTC entry point that failed, e.g. <c>nvrtcCompileProgram</c>; <c>dlopen</c> when NVRTC is missing.</summary>
    public string Call { get; }

    /// <summary>The nvrtcResult value; -1 when the library could not be loaded.</summary>
    public int ErrorCode { get; }

    /// <summary>The nvrtcResult's name from nvrtcGetErrorString, e.g. <c>NVRTC_ERROR_COMPILATION</c>.</summary>
    public string ErrorName { get; }

    /// <summary>The whole compile log (empty when the failure was not a compilation).</summary>
    public string Log { get; }

    private static string Format(string call, int code, string name, string detail, string log)
    {
        var message = $"{call} failed: {name} ({code})";
        if (detail.Length > 0)
        {
            message += ": " + detail;
        }
        if (log.Length > 0)
        {
            message += Environment.NewLine + "NVRTC log:" + Environment.NewLine + log.TrimEnd('\0', '\n', '\r');
        }
        return message;
    }
}

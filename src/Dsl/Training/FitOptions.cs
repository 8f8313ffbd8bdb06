namespace Kiln;

/// <summary>Less common knobs of <see cref="Network.Fit"/>.</summary>
public sealed class FitOptions
{
    /// <summary>Print Keras-style progress (the default). False is the quiet mode.</summary>
    public bool Verbose { get; init; } = true;

    /// <summary>Where progress goes; the console by default.</summary>
    public TextWriter? Output { get; init; }

    /// <summary>
    /// Saves the weights after each epoch to this path (safetensors); <c>{epoch}</c> in it is replaced by the
    /// 1-based epoch number. Written atomically, so a crash never leaves a half-written file.
    /// </summary>
    public string? CheckpointPath { get; init; }

    /// <summary>Only save when the monitored loss (validation loss when there is a validation set) improves.</summary>
    public bool SaveBestOnly { get; init; }
}

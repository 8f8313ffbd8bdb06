namespace Kiln;

/// <summary>Less common knobs of <see cref="Network.Fit"/>. Immutable once built; may be shared by fits that do not run at once.</summary>
public sealed class FitOptions
{
    /// <summary>Print Keras-style progress (the default). False is the quiet mode.</summary>
    public bool Verbose { get; init; } = true;

    /// <summary>Where progress goes; the console by default.</summary>
    public TextWriter? Output { get; init; }

    /// <summary>
    /// Called in order at each point of training (Keras' <c>callbacks=</c>): <see cref="EarlyStopping"/>,
    /// <see cref="ReduceLROnPlateau"/>, <see cref="ModelCheckpoint"/> (per-epoch checkpoints), <see cref="CsvLogger"/>,
    /// <see cref="TerminateOnNaN"/>, or your own <see cref="Callback"/>.
    /// </summary>
    public IReadOnlyList<Callback> Callbacks { get; init; } = [];
}

using Kiln.Tests.IO;
using Kiln.Tests.Training;
using TrainingData = Kiln.Tests.Training.Data;

namespace Kiln.Tests.Persistence;

/// <summary>A run resumed from a mid-training checkpoint equals the run that never stopped, bit for bit, on the CPU.</summary>
public sealed class ResumeTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private sealed class StopAfter(int epoch) : Callback
    {
        public override void OnEpochEnd(EpochMetrics logs, FitContext context) => context.StopTraining |= logs.Epoch == epoch;
    }

    // Dropout (keyed by the step counter), a shuffle that reshuffles every pass, and an optimizer with slots.
    private static Dataset<Batch> Pipeline(bool shared) => shared
        ? TrainingData.OneHot(TrainingData.Iris(2).Train).Repeat().Shuffle(300, 7).Batch(16)
        : TrainingData.OneHot(TrainingData.Iris(2).Train).Shuffle(300, 7).Batch(16);

    public static TheoryData<bool, string> Cases() => new() { { true, "adam" }, { false, "rmsprop" }, { true, "sgd" } };

    private static Optimizer Make(string name) => name switch
    {
        "adam" => new Adam(0.01f) { ClipNorm = 1f },
        "rmsprop" => new RmsProp(0.01f, momentum: 0.5f, centered: true),
        _ => new Sgd(new ExponentialDecay(0.05, 20, 0.5), momentum: 0.9f, nesterov: true),
    };

    private History Fit(OneHotIrisNet net, bool shared, string optimizer, int epochs, params Callback[] callbacks) =>
        Fit(net, shared, optimizer, epochs, new FitOptions { Verbose = false, Callbacks = callbacks });

    private static History Fit(OneHotIrisNet net, bool shared, string optimizer, int epochs, FitOptions options) =>
        net.Fit(Pipeline(shared), epochs, stepsPerEpoch: shared ? 9 : null, validation: TrainingData.OneHot(TrainingData.Iris(2).Test).Batch(16),
            optimizer: Make(optimizer), options: options);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Resuming_gives_the_bits_of_the_uninterrupted_run(bool shared, string optimizer)
    {
        using var straight = new OneHotIrisNet(seed: 3);
        var whole = Fit(straight, shared, optimizer, 5);

        using var first = new OneHotIrisNet(seed: 3);
        var path = _directory.File("resume-{epoch}.safetensors");
        Fit(first, shared, optimizer, 5, new ModelCheckpoint(path, saveTrainingState: true), new StopAfter(2));

        // The same seed: it keys the dropout masks, as the network's own configuration.
        using var resumed = new OneHotIrisNet(seed: 3);
        var rest = Fit(resumed, shared, optimizer, 5, new FitOptions { Verbose = false, ResumeFrom = _directory.File("resume-2.safetensors") });

        Assert.Equal([3, 4, 5], rest.Epochs.Select(e => e.Epoch));
        Assert.Equal(whole.Loss.Skip(2), rest.Loss);
        Assert.Equal(straight.GetParameters(), resumed.GetParameters());

        // Without the optimizer's state or the data position the run differs: the test can fail.
        using var weightsOnly = new OneHotIrisNet(seed: 3);
        weightsOnly.Load(_directory.File("resume-2.safetensors"));
        Fit(weightsOnly, shared, optimizer, 3, new FitOptions { Verbose = false });
        Assert.NotEqual(straight.GetParameters(), weightsOnly.GetParameters());
    }

    [Fact]
    public void A_checkpoint_is_refused_for_another_optimizer_or_a_weights_only_file()
    {
        using var net = new OneHotIrisNet(seed: 3);
        var path = _directory.File("state.safetensors");
        Fit(net, true, "adam", 2, new ModelCheckpoint(path, saveTrainingState: true));
        var e = Assert.Throws<InvalidDataException>(() => Fit(net, true, "rmsprop", 4, new FitOptions { Verbose = false, ResumeFrom = path }));
        Assert.Contains("holds the state of Adam, but Fit was given RmsProp", e.Message, StringComparison.Ordinal);

        var weights = _directory.File("weights.safetensors");
        net.Save(weights);
        e = Assert.Throws<InvalidDataException>(() => Fit(net, true, "adam", 4, new FitOptions { Verbose = false, ResumeFrom = weights }));
        Assert.Contains("is not a training checkpoint", e.Message, StringComparison.Ordinal);
    }
}

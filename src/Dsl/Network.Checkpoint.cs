using System.Globalization;
using System.Reflection;
using Kiln.Execution;
using Kiln.IO;

namespace Kiln;

public abstract partial class Network
{
    private const string SlotPrefix = "optimizer.slot";
    private const string OptimizerKey = "kiln.optimizer";
    private const string IterationsKey = "kiln.iterations";
    private const string StepKey = "kiln.step";
    private const string EpochKey = "kiln.epoch";
    private const string BatchesKey = "kiln.batches";
    private const string PassesKey = "kiln.passes";

    /// <summary>
    /// Writes a training checkpoint: the weights (as <see cref="Save"/>), the optimizer's slots as
    /// <c>optimizer.slot0</c>… and, in the metadata, the optimizer's kind and iteration count, the step counter that
    /// keys dropout, the epochs completed and the data consumed (batches from a shared iterator, passes otherwise).
    /// </summary>
    internal void SaveTrainingCheckpoint(string path, int epoch, long batches, long passes)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var optimizer = _optimizer ?? throw new InvalidOperationException("Nothing to resume: no optimizer has been used.");
        var values = GetParameters();
        var state = _executor.ReadOptimizerState();
        var tensors = Info.Parameters
            .Select(p => new NamedTensor(p.Name, [.. p.Shape], values.AsSpan(p.Offset, p.Length).ToArray()))
            .Concat(state.Slots.Select((s, i) => (s, i)).Where(x => x.s.Length > 0).Select(x => new NamedTensor(SlotPrefix + x.i, [x.s.Length], x.s)))
            .ToList();
        var metadata = new Dictionary<string, string>
        {
            [NetworkKey] = Info.Name,
            [VersionKey] = typeof(Network).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown",
            [OptimizerKey] = optimizer.GetType().Name,
            [IterationsKey] = state.Iterations.ToString(CultureInfo.InvariantCulture),
            [StepKey] = state.Step.ToString(CultureInfo.InvariantCulture),
            [EpochKey] = epoch.ToString(CultureInfo.InvariantCulture),
            [BatchesKey] = batches.ToString(CultureInfo.InvariantCulture),
            [PassesKey] = passes.ToString(CultureInfo.InvariantCulture),
        };
        SafeTensors.Save(path, tensors, metadata);
    }

    /// <summary>Restores a training checkpoint for the selected optimizer; returns where the data stood.</summary>
    private (int Epoch, long Batches, long Passes) LoadTrainingCheckpoint(string path, Optimizer optimizer)
    {
        var file = SafeTensors.Load(path);
        string Meta(string key) => file.Metadata.TryGetValue(key, out var v) ? v
            : throw new InvalidDataException($"'{path}' is not a training checkpoint: its metadata has no '{key}'. Save one with ModelCheckpoint(saveTrainingState: true).");
        long Number(string key) => long.TryParse(Meta(key), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n
            : throw new InvalidDataException($"'{path}': metadata '{key}' is '{Meta(key)}', not a non-negative integer.");
        if (Meta(OptimizerKey) != optimizer.GetType().Name)
        {
            throw new InvalidDataException($"'{path}' holds the state of {Meta(OptimizerKey)}, but Fit was given {optimizer.GetType().Name}.");
        }
        var slots = new float[Optimizer.MaxSlots][];
        for (var i = 0; i < slots.Length; i++)
        {
            slots[i] = file.Tensors.TryGetValue(SlotPrefix + i, out var tensor) ? tensor.Data : [];
        }
        var (iterations, step, epoch) = (Number(IterationsKey), Number(StepKey), Number(EpochKey));
        if (step > uint.MaxValue || epoch > int.MaxValue)
        {
            throw new InvalidDataException($"'{path}': step {step} or epoch {epoch} is out of range.");
        }
        var values = ReadParameters(file, path);
        try
        {
            _executor.WriteOptimizerState(new OptimizerState(iterations, (uint)step, slots));
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"'{path}' does not fit {Info.Name}'s {optimizer.GetType().Name}: {e.Message}", e);
        }
        SetParameters(values);
        return ((int)epoch, Number(BatchesKey), Number(PassesKey));
    }
}

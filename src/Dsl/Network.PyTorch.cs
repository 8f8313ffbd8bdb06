using Kiln.IO;

namespace Kiln;

public abstract partial class Network
{
    /// <summary>
    /// Loads weights from a PyTorch <c>state_dict</c> saved as safetensors (<see cref="PyTorchWeights"/>): module
    /// <c>conv2d</c> gives <c>conv2d.weight</c> and <c>conv2d.bias</c>, unless <paramref name="moduleNames"/> maps the
    /// layer to another module path. Every tensor that does not fit is reported at once, and the weights are untouched
    /// unless all fit.
    /// </summary>
    public void LoadPyTorch(string path, IReadOnlyDictionary<string, string>? moduleNames = null) =>
        SetParameters(PyTorchWeights.Read(path, Info, moduleNames));
}

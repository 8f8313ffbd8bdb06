using Xunit.Abstractions;

namespace Kiln.Interchange.Tests;

/// <summary>
/// Real PyTorch (python3-torch): trains the twin of <see cref="TorchPeerNet"/> for a few steps (which also moves
/// BatchNorm's running statistics), saves its state_dict as safetensors (written by hand: the safetensors package is
/// not needed; BatchNorm's I64 step counters included), and Kiln must predict what PyTorch predicts in eval mode.
/// </summary>
public sealed class PyTorchPeerTests(ITestOutputHelper output)
{
    private const string Script = """
        import json, struct, sys
        import torch
        import torch.nn as nn

        def save(path, tensors):
            # safetensors: u64 header length, JSON header padded with spaces to 8 bytes, raw little-endian data.
            dtypes = {torch.float32: "F32", torch.int64: "I64"}
            header, blobs, offset = {}, [], 0
            for name, t in tensors.items():
                data = t.detach().contiguous().numpy().tobytes()
                header[name] = {"dtype": dtypes[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
                blobs.append(data)
                offset += len(data)
            text = json.dumps(header).encode()
            text += b" " * (-len(text) % 8)
            with open(path, "wb") as f:
                f.write(struct.pack("<Q", len(text)))
                f.write(text)
                for blob in blobs:
                    f.write(blob)

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                # Module names: a Sequential for the convolutions (mapped in Kiln), the layers' own names for the rest.
                self.features = nn.Sequential(
                    nn.Conv2d(2, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                    nn.Conv2d(4, 6, 2, stride=2), nn.Tanh())
                self.norm = nn.BatchNorm1d(36)
                self.dense = nn.Linear(36, 16)
                self.head = nn.Linear(16, 3)
            def forward(self, x):
                x = self.norm(torch.flatten(self.features(x), 1))
                return self.head(torch.relu(self.dense(x)))

        torch.manual_seed(0)
        net = Net()
        optimizer = torch.optim.Adam(net.parameters(), lr=0.01)
        x = torch.rand(64, 2, 12, 10)
        y = torch.randint(0, 3, (64,))
        for step in range(5):
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(net(x), y)
            loss.backward()
            optimizer.step()
        net.eval()
        test = torch.rand(9, 2, 12, 10)
        with torch.no_grad():
            probabilities = torch.softmax(net(test), dim=1)
        save(sys.argv[1], net.state_dict())
        save(sys.argv[2], {"inputs": test.permute(0, 2, 3, 1), "probabilities": probabilities})
        print(f"loss {loss.item():.4f}")
        """;

    [PythonFact("torch")]
    public void KilnPredictsWhatPyTorchPredictsAfterLoadingItsStateDict()
    {
        using var directory = new TemporaryDirectory();
        string weights = directory.File("state_dict.safetensors"), data = directory.File("data.safetensors");
        Python.Run(Script, weights, data);
        var expected = SafeTensors.Load(data).Tensors;

        using var network = new TorchPeerNet(seed: 3, Device.Cpu);
        network.LoadPyTorch(weights, new Dictionary<string, string>
        {
            ["conv2d"] = "features.0", ["batch_normalization"] = "features.1", ["conv2d_1"] = "features.4", ["batch_normalization_1"] = "norm",
        });
        var inputs = expected["inputs"];
        Assert.Equal([9, 12, 10, 2], inputs.Shape);
        var actual = new float[9 * 3];
        network.Predict(inputs.Data, actual);
        var largest = Tolerance.AssertClose(expected["probabilities"].Data, actual, "Kiln against PyTorch");
        output.WriteLine($"largest |Kiln − PyTorch| = {largest:E2} over 9 examples × 3 classes");
        // Trained probabilities, not a uniform third: the comparison has something to compare.
        Assert.Contains(expected["probabilities"].Data, p => Math.Abs(p - 1 / 3f) > 0.05);
    }
}

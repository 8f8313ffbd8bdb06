using System.Text.RegularExpressions;
using Kiln.Runtime.Cpu;
using Kiln.Runtime.Cuda;
using static Kiln.Oracles.RandomData;

namespace GpuCheck;

/// <summary>
/// (b) Every kernel of the CUDA library on random inputs of several shapes against its Kiln.Runtime.Cpu twin. Outputs
/// start as NaN; element-wise work must agree within <see cref="Tolerance.Elementwise"/>, sums of products within
/// <see cref="Tolerance.Reduction"/> of their length; max-pool values and arg-max indices must be identical.
/// </summary>
internal sealed partial class KernelChecks(KernelRunner gpu, Report report)
{
    private static readonly (int Batch, int InF, int OutF, int Act)[] DenseCases =
    [
        (1, 4, 10, 1), (32, 10, 3, 0), (23, 37, 19, 0), (23, 37, 19, 1), (23, 37, 19, 2), (23, 37, 19, 3), (200, 128, 10, 0), (64, 1568, 128, 1),
    ];

    private static readonly (ConvGeometry G, int Act, int Batch)[] ConvCases =
    [
        (new(28, 28, 1, 28, 28, 16, 5, 1, 2, 2), 1, 8),   // MNIST conv2d
        (new(14, 14, 16, 14, 14, 32, 5, 1, 2, 2), 1, 4),  // MNIST conv2d_1
        (new(28, 28, 1, 28, 28, 16, 5, 1, 2, 2), 1, 128), // the training batch: conv2d's weight gradient in 256 splits
        (new(14, 14, 16, 14, 14, 32, 5, 1, 2, 2), 1, 129), // 99 splits, the last one partly filled
        (new(14, 14, 16, 14, 14, 32, 5, 1, 2, 2), 1, 1),  // one split
        (new(9, 11, 3, 4, 5, 4, 3, 2, 0, 0), 3, 5),       // StridedValid: valid, stride 2, tanh
        (new(9, 11, 3, 5, 6, 4, 3, 2, 1, 1), 0, 2),       // same, stride 2: padding split 1 + 1
        (new(7, 7, 2, 7, 7, 3, 3, 1, 1, 1), 2, 3),        // OddPooling: same, sigmoid
    ];

    private static readonly (PoolGeometry G, int Batch)[] PoolCases =
    [
        (new(28, 28, 16, 14, 14, 2, 2, 0, 0), 4),
        (new(14, 14, 32, 7, 7, 2, 2, 0, 0), 4),
        (new(7, 7, 3, 4, 4, 2, 2, 0, 0), 3),  // same on an odd size: a padded last row and column
        (new(4, 4, 3, 2, 2, 3, 2, 0, 0), 3),  // overlapping windows
        (new(5, 6, 4, 3, 3, 3, 2, 1, 0), 2),  // padding at the top
    ];

    private static readonly (int Features, int Batch)[] ActivationCases = [(19, 7), (128, 33), (6272, 3)];
    private static readonly (int Features, int Batch, float Rate)[] DropoutCases = [(128, 33, 0.4f), (12, 9, 0.25f)];
    private static readonly (int Classes, int Batch)[] SoftmaxCases = [(3, 150), (10, 128), (37, 5)];
    private static readonly (int Features, int Batch)[] MseCases = [(4, 11), (37, 9)];
    private static readonly int[] AccumulateCases = [1, 150, 1000];
    private static readonly int[] OptimizerSizes = [1000, 215_370];
    private static readonly (float Momentum, bool Nesterov)[] SgdCases = [(0f, false), (0.9f, false), (0.9f, true)];
    private static readonly (float Momentum, bool Centered)[] RmsPropCases = [(0f, false), (0.5f, false), (0f, true), (0.5f, true)];

    /// <summary>Every instantiation the checks launch, for one NVRTC compilation.</summary>
    public static IEnumerable<string> NameExpressions()
    {
        foreach (var (_, inF, outF, act) in DenseCases)
        {
            yield return $"kiln::dense_forward<{inF}, {outF}, {act}>";
            yield return $"kiln::dense_backward_data<{inF}, {outF}>";
            yield return $"kiln::dense_backward_weights<{inF}, {outF}>";
        }
        foreach (var (g, act, _) in ConvCases)
        {
            yield return $"kiln::conv2d_forward<{Shape(g)}, {act}>";
            yield return $"kiln::conv2d_backward_data<{Shape(g)}>";
            yield return $"kiln::conv2d_backward_weights<{Shape(g)}>";
            yield return $"kiln::conv2d_weight_grad_reduce<{g.PatchSize * g.OutC}, {g.OutC}>";
        }
        foreach (var (g, _) in PoolCases)
        {
            yield return $"kiln::maxpool2d_forward<{Shape(g)}>";
            yield return $"kiln::maxpool2d_backward<{Shape(g)}>";
        }
        foreach (var (features, _) in ActivationCases)
        {
            foreach (var act in ActivationCodes)
            {
                yield return $"kiln::activation_forward<{features}, {act}>";
                if (!Activations.BackwardNeedsInput((Epilogue)act))
                {
                    yield return $"kiln::activation_backward<{features}, {act}>";
                }
            }
        }
        foreach (var (features, _, _) in DropoutCases)
        {
            yield return $"kiln::dropout_forward<{features}>";
            yield return $"kiln::dropout_backward<{features}>";
        }
        foreach (var (classes, _) in SoftmaxCases)
        {
            yield return $"kiln::softmax_xent_sparse<{classes}>";
            yield return $"kiln::softmax_xent_dense<{classes}>";
            yield return $"kiln::softmax_forward<{classes}>";
        }
        foreach (var (features, _) in MseCases)
        {
            yield return $"kiln::sigmoid_bce<{features}>";
            yield return $"kiln::mse<{features}>";
            yield return $"kiln::mae<{features}>";
        }
        yield return "kiln::loss_accumulate";
        yield return "kiln::adam";
        yield return "kiln::sgd";
        yield return "kiln::rmsprop";
        yield return "kiln::adagrad";
        yield return "kiln::clip_value";
        yield return "kiln::clip_norm";
        yield return "kiln::clip_global_norm";
        foreach (var name in LayerNameExpressions())
        {
            yield return name;
        }
    }

    public void RunAll()
    {
        var seed = 100;
        foreach (var c in DenseCases)
        {
            Guard($"dense {c}", () => Dense(c.Batch, c.InF, c.OutF, c.Act, seed += 10));
        }
        foreach (var c in ConvCases)
        {
            Guard($"conv2d {c}", () => Conv(c.G, c.Act, c.Batch, seed += 10));
        }
        foreach (var c in PoolCases)
        {
            Guard($"maxpool2d {c}", () => Pool(c.G, c.Batch, seed += 10));
        }
        foreach (var c in ActivationCases)
        {
            Guard($"activations {c}", () => Activation(c.Features, c.Batch, seed += 10));
        }
        foreach (var c in DropoutCases)
        {
            Guard($"dropout {c}", () => DropoutCase(c.Features, c.Batch, c.Rate, seed += 10));
        }
        foreach (var c in SoftmaxCases)
        {
            Guard($"softmax {c}", () => Softmax(c.Classes, c.Batch, seed += 10));
        }
        foreach (var c in MseCases)
        {
            Guard($"sigmoid_bce {c}", () => SigmoidBce(c.Features, c.Batch, seed += 10));
            Guard($"mse {c}", () => Regression("mse", Losses.MeanSquaredError, c.Features, c.Batch, seed += 10));
            Guard($"mae {c}", () => Regression("mae", (y, t, dy, batch, size) => Losses.MeanAbsoluteError(y, t, default, dy, batch, size, out _), c.Features, c.Batch, seed += 10));
        }
        foreach (var batch in AccumulateCases)
        {
            Guard($"loss_accumulate batch {batch}", () => Accumulate(batch, seed += 10));
        }
        foreach (var n in OptimizerSizes)
        {
            Guard($"adam n {n}", () => AdamCase(n, 0f, seed += 10));
            Guard($"adamw n {n}", () => AdamCase(n, 0.004f, seed += 10));
            foreach (var (momentum, nesterov) in SgdCases)
            {
                Guard($"sgd n {n}", () => SgdCase(n, momentum, nesterov, seed += 10));
            }
            foreach (var (momentum, centered) in RmsPropCases)
            {
                Guard($"rmsprop n {n}", () => RmsPropCase(n, momentum, centered, seed += 10));
            }
            Guard($"adagrad n {n}", () => AdagradCase(n, seed += 10));
            Guard($"clipping n {n}", () => ClipCases(n, seed += 10));
        }
        RunLayers(ref seed);
        var missing = GlobalKernel().Matches(KernelSources.All).Select(m => m.Groups[1].Value).Distinct()
            .Except(report.CheckedKernels, StringComparer.Ordinal).ToList();
        report.Expect("every __global__ kernel of the library was checked", missing.Count == 0,
            missing.Count == 0 ? $"{report.CheckedKernels.Count} kernels" : "unchecked: " + string.Join(", ", missing));
    }

    private void Guard(string what, Action check)
    {
        try
        {
            check();
        }
        catch (Exception e) when (e is CudaException or NvrtcException or ArgumentException or InvalidOperationException)
        {
            report.Crashed(what, e);
        }
    }

    private void Check(string kernel, string what, float[] actual, float[] expected, Tolerance tolerance, float[]? magnitude = null) =>
        report.Kernel(kernel, Comparison.Of(what, actual, expected, tolerance, magnitude));

    private void Dense(int batch, int inF, int outF, int act, int seed)
    {
        var x = Uniform(batch * inF, seed);
        var w = Uniform(inF * outF, seed + 1, 0.3f);
        var b = Uniform(outF, seed + 2, 0.1f);
        var dz = Uniform(batch * outF, seed + 3);
        var at = $"batch {batch}";

        var y = new float[batch * outF];
        var yMag = new float[y.Length];
        Kiln.Runtime.Cpu.Dense.Forward(x, w, b, y, batch, inF, outF, (Epilogue)act);
        Kiln.Runtime.Cpu.Dense.Forward(Abs(x), Abs(w), Abs(b), yMag, batch, inF, outF, Epilogue.Linear);
        using var dx = gpu.Upload<float>(x);
        using var dw = gpu.Upload<float>(w);
        using var db = gpu.Upload<float>(b);
        using var dy = gpu.Poisoned<float>(y.Length);
        var forward = $"kiln::dense_forward<{inF}, {outF}, {act}>";
        gpu.Run(forward, KernelGeometry.DenseForward(batch, inF, outF), dx, dw, db, dy, batch);
        Check("dense_forward", $"{forward} {at} y", dy.ToArray(), y, Tolerance.Reduction(inF), yMag);

        var dxRef = new float[batch * inF];
        var dxMag = new float[dxRef.Length];
        Kiln.Runtime.Cpu.Dense.BackwardData(dz, w, dxRef, batch, inF, outF);
        Kiln.Runtime.Cpu.Dense.BackwardData(Abs(dz), Abs(w), dxMag, batch, inF, outF);
        using var ddz = gpu.Upload<float>(dz);
        using var dxOut = gpu.Poisoned<float>(dxRef.Length);
        var data = $"kiln::dense_backward_data<{inF}, {outF}>";
        gpu.Run(data, KernelGeometry.DenseBackwardData(batch, inF, outF), ddz, dw, dxOut, batch);
        Check("dense_backward_data", $"{data} {at} dx", dxOut.ToArray(), dxRef, Tolerance.Reduction(outF), dxMag);

        var (dwRef, dbRef) = (new float[inF * outF], new float[outF]);
        var (dwMag, dbMag) = (new float[dwRef.Length], new float[outF]);
        Kiln.Runtime.Cpu.Dense.BackwardWeights(x, dz, dwRef, dbRef, batch, inF, outF);
        Kiln.Runtime.Cpu.Dense.BackwardWeights(Abs(x), Abs(dz), dwMag, dbMag, batch, inF, outF);
        using var dwOut = gpu.Poisoned<float>(dwRef.Length);
        using var dbOut = gpu.Poisoned<float>(outF);
        var weights = $"kiln::dense_backward_weights<{inF}, {outF}>";
        gpu.Run(weights, KernelGeometry.DenseBackwardWeights(batch, inF, outF), dx, ddz, dwOut, dbOut, batch);
        Check("dense_backward_weights", $"{weights} {at} dw", dwOut.ToArray(), dwRef, Tolerance.Reduction(batch), dwMag);
        Check("dense_backward_weights", $"{weights} {at} db", dbOut.ToArray(), dbRef, Tolerance.Reduction(batch), dbMag);
    }

    private void Conv(ConvGeometry g, int act, int batch, int seed)
    {
        var x = Uniform(batch * g.InSize, seed);
        var w = Uniform(g.PatchSize * g.OutC, seed + 1, 0.2f);
        var b = Uniform(g.OutC, seed + 2, 0.1f);
        var dz = Uniform(batch * g.OutSize, seed + 3);
        var scratch = new float[Conv2D.ScratchSize(batch, g)];
        var at = $"batch {batch}";

        var y = new float[batch * g.OutSize];
        var yMag = new float[y.Length];
        Conv2D.Forward(x, w, b, y, batch, g, (Epilogue)act, scratch);
        Conv2D.Forward(Abs(x), Abs(w), Abs(b), yMag, batch, g, Epilogue.Linear, scratch);
        using var dx = gpu.Upload<float>(x);
        using var dw = gpu.Upload<float>(w);
        using var db = gpu.Upload<float>(b);
        using var dy = gpu.Poisoned<float>(y.Length);
        var forward = $"kiln::conv2d_forward<{Shape(g)}, {act}>";
        gpu.Run(forward, KernelGeometry.Conv2DForward(batch, g.OutH, g.OutW, g.OutC), dx, dw, db, dy, batch);
        Check("conv2d_forward", $"{forward} {at} y", dy.ToArray(), y, Tolerance.Reduction(g.PatchSize), yMag);

        var dxRef = new float[x.Length];
        var dxMag = new float[x.Length];
        Conv2D.BackwardData(dz, w, dxRef, batch, g, scratch);
        Conv2D.BackwardData(Abs(dz), Abs(w), dxMag, batch, g, scratch);
        using var ddz = gpu.Upload<float>(dz);
        using var dxOut = gpu.Poisoned<float>(x.Length);
        var data = $"kiln::conv2d_backward_data<{Shape(g)}>";
        gpu.Run(data, KernelGeometry.Conv2DBackwardData(batch, g.InH, g.InW, g.InC), ddz, dw, dxOut, batch);
        Check("conv2d_backward_data", $"{data} {at} dx", dxOut.ToArray(), dxRef, Tolerance.Reduction((long)g.Kernel * g.Kernel * g.OutC), dxMag);

        var (dwRef, dbRef) = (new float[w.Length], new float[g.OutC]);
        var (dwMag, dbMag) = (new float[w.Length], new float[g.OutC]);
        Conv2D.BackwardWeights(x, dz, dwRef, dbRef, batch, g, scratch);
        Conv2D.BackwardWeights(Abs(x), Abs(dz), dwMag, dbMag, batch, g, scratch);
        using var dwOut = gpu.Poisoned<float>(w.Length);
        using var dbOut = gpu.Poisoned<float>(g.OutC);
        var weights = $"kiln::conv2d_backward_weights<{Shape(g)}>";
        var reduce = $"kiln::conv2d_weight_grad_reduce<{w.Length}, {g.OutC}>";
        var splits = KernelGeometry.WeightSplits(batch, g.OutH, g.OutW);
        using var workspace = gpu.Poisoned<float>(KernelGeometry.Conv2DWeightWorkspace(batch, g.OutH, g.OutW, g.Kernel, g.InC, g.OutC));
        gpu.Run(weights, KernelGeometry.Conv2DBackwardWeights(batch, g.OutH, g.OutW, g.Kernel, g.InC, g.OutC), dx, ddz, workspace, batch);
        gpu.Run(reduce, KernelGeometry.Conv2DWeightGradReduce(g.Kernel, g.InC, g.OutC), workspace, dwOut, dbOut, splits);
        var terms = (long)batch * g.OutH * g.OutW;
        // Each output needs both launches; the weights are reported under the first kernel, the biases under the second.
        Check("conv2d_backward_weights", $"{weights} then reduce, {at}, {splits} splits, dw", dwOut.ToArray(), dwRef, Tolerance.Reduction(terms), dwMag);
        Check("conv2d_weight_grad_reduce", $"{weights} then reduce, {at}, {splits} splits, db", dbOut.ToArray(), dbRef, Tolerance.Reduction(terms), dbMag);
    }

    private void Pool(PoolGeometry g, int batch, int seed)
    {
        // Five distinct values, none zero, so most windows hold ties: both sides must pick the first maximum.
        var x = Uniform(batch * g.InSize, seed).Select(v => MathF.Round(v * 2) / 2 + 0.25f).ToArray();
        var dz = Uniform(batch * g.OutSize, seed + 1);
        var (y, argmax, dxRef) = (new float[batch * g.OutSize], new int[batch * g.OutSize], new float[x.Length]);
        MaxPool2D.Forward(x, y, argmax, batch, g);
        MaxPool2D.Backward(dz, argmax, dxRef, batch, g);
        var at = $"batch {batch}";

        using var dx = gpu.Upload<float>(x);
        using var dy = gpu.Poisoned<float>(y.Length);
        using var darg = gpu.Poisoned<int>(y.Length);
        var forward = $"kiln::maxpool2d_forward<{Shape(g)}>";
        gpu.Run(forward, KernelGeometry.MaxPool2DForward(batch, g.OutH, g.OutW, g.Channels), dx, dy, darg, batch);
        Check("maxpool2d_forward", $"{forward} {at} y", dy.ToArray(), y, Tolerance.Exact);
        report.Kernel("maxpool2d_forward", Comparison.Of($"{forward} {at} argmax", darg.ToArray(), argmax));

        using var ddz = gpu.Upload<float>(dz);
        using var dxOut = gpu.Poisoned<float>(x.Length);
        var backward = $"kiln::maxpool2d_backward<{Shape(g)}>";
        gpu.Run(backward, KernelGeometry.MaxPool2DBackward(batch, g.InH, g.InW, g.Channels), ddz, darg, dxOut, batch);
        Check("maxpool2d_backward", $"{backward} {at} dx", dxOut.ToArray(), dxRef, Tolerance.Elementwise);
    }

    private void Activation(int features, int batch, int seed)
    {
        var n = features * batch;
        var x = Uniform(n, seed, 3f);
        var dz = Uniform(n, seed + 1);
        foreach (var act in ActivationCodes)
        {
            var y = x.ToArray();
            Activations.Forward(y, (Epilogue)act);
            using var dx = gpu.Upload<float>(x);
            using var dy = gpu.Poisoned<float>(n);
            var forward = $"kiln::activation_forward<{features}, {act}>";
            gpu.Run(forward, KernelGeometry.Elementwise(n), dx, dy, batch);
            Check("activation_forward", $"{forward} batch {batch} y", dy.ToArray(), y, Tolerance.Elementwise);
            if (Activations.BackwardNeedsInput((Epilogue)act))
            {
                continue; // no backward from the output (the standalone layer's kernel reads x: KernelChecks.Layers)
            }

            // In place on dz, from the CPU's y, so this checks the derivative alone.
            var dzRef = dz.ToArray();
            Activations.Backward(y, dzRef, (Epilogue)act);
            using var yIn = gpu.Upload<float>(y);
            using var ddz = gpu.Upload<float>(dz);
            var backward = $"kiln::activation_backward<{features}, {act}>";
            gpu.Run(backward, KernelGeometry.Elementwise(n), yIn, ddz, batch);
            Check("activation_backward", $"{backward} batch {batch} dz", ddz.ToArray(), dzRef, Tolerance.Elementwise);
        }
    }

    private void DropoutCase(int features, int batch, float rate, int seed)
    {
        const uint layerSeed = 0xC0FFEE, step = 17;
        var n = features * batch;
        var x = Uniform(n, seed);
        var (y, dx) = (new float[n], new float[n]);
        Dropout.Forward(x, y, rate, layerSeed, step);
        Dropout.Backward(x, dx, rate, layerSeed, step);
        using var dIn = gpu.Upload<float>(x);
        using var dOut = gpu.Poisoned<float>(n);
        using var dStep = gpu.Upload<int>([(int)step]);
        var forward = $"kiln::dropout_forward<{features}>";
        gpu.Run(forward, KernelGeometry.Elementwise(n), dIn, dOut, batch, layerSeed, dStep, rate);
        Check("dropout_forward", $"{forward} batch {batch} rate {rate} y", dOut.ToArray(), y, Tolerance.Elementwise);
        dOut.Fill32(KernelRunner.NaNBits);
        var backward = $"kiln::dropout_backward<{features}>";
        gpu.Run(backward, KernelGeometry.Elementwise(n), dIn, dOut, batch, layerSeed, dStep, rate);
        Check("dropout_backward", $"{backward} batch {batch} rate {rate} dx", dOut.ToArray(), dx, Tolerance.Elementwise);
    }

    private void Softmax(int classes, int batch, int seed)
    {
        var z = Uniform(batch * classes, seed, 4f);
        var labels = Integers(batch, seed + 1, classes);
        // Even rows one-hot, odd rows soft targets that sum to 1.
        var targets = new float[z.Length];
        var soft = Positive(z.Length, seed + 2);
        for (var r = 0; r < batch; r++)
        {
            var row = targets.AsSpan(r * classes, classes);
            if (r % 2 == 0)
            {
                row[labels[r]] = 1f;
            }
            else
            {
                var s = soft.AsSpan(r * classes, classes);
                var sum = 0f;
                foreach (var v in s)
                {
                    sum += v;
                }
                for (var j = 0; j < classes; j++)
                {
                    row[j] = s[j] / sum;
                }
            }
        }
        var at = $"batch {batch}";
        using var dz = gpu.Upload<float>(z);

        // Sparse labels: the whole batch for p and the gradient, row by row for each row's loss and hit.
        var (p, g) = (new float[z.Length], new float[z.Length]);
        Losses.SoftmaxCrossEntropy(z, labels, p, g, batch, classes, out _);
        var (rowLoss, rowCorrect) = PerRow(batch, classes, (r, grad) => (Losses.SoftmaxCrossEntropy(z.AsSpan(r * classes, classes), labels.AsSpan(r, 1), default, grad, 1, classes, out var c), c));
        using var dl = gpu.Upload<int>(labels);
        using var dp = gpu.Poisoned<float>(z.Length);
        using var dg = gpu.Poisoned<float>(z.Length);
        using var loss = gpu.Poisoned<float>(batch);
        using var correct = gpu.Poisoned<int>(batch);
        var sparse = $"kiln::softmax_xent_sparse<{classes}>";
        gpu.Run(sparse, KernelGeometry.Rows(batch), dz, dl, dp, dg, loss, correct, batch);
        Check("softmax_xent_sparse", $"{sparse} {at} probs", dp.ToArray(), p, Tolerance.Elementwise);
        Check("softmax_xent_sparse", $"{sparse} {at} dlogits", dg.ToArray(), g, Tolerance.Elementwise);
        report.Kernel("softmax_xent_sparse", Comparison.Of($"{sparse} {at} row_loss", loss.ToArray(), rowLoss, Tolerance.Elementwise));
        report.Kernel("softmax_xent_sparse", Comparison.Of($"{sparse} {at} row_correct", correct.ToArray(), rowCorrect));
        dg.Fill32(KernelRunner.NaNBits);
        gpu.Run(sparse, KernelGeometry.Rows(batch), dz, dl, null, dg, loss, correct, batch);
        Check("softmax_xent_sparse", $"{sparse} {at} dlogits without probs", dg.ToArray(), g, Tolerance.Elementwise);

        Losses.SoftmaxCrossEntropy(z, targets, p, g, batch, classes, out _);
        (rowLoss, rowCorrect) = PerRow(batch, classes, (r, grad) => (Losses.SoftmaxCrossEntropy(z.AsSpan(r * classes, classes), targets.AsSpan(r * classes, classes), default, grad, 1, classes, out var c), c));
        using var dt = gpu.Upload<float>(targets);
        dp.Fill32(KernelRunner.NaNBits);
        dg.Fill32(KernelRunner.NaNBits);
        loss.Fill32(KernelRunner.NaNBits);
        correct.Fill32(KernelRunner.NaNBits);
        var dense = $"kiln::softmax_xent_dense<{classes}>";
        gpu.Run(dense, KernelGeometry.Rows(batch), dz, dt, dp, dg, loss, correct, batch);
        Check("softmax_xent_dense", $"{dense} {at} probs", dp.ToArray(), p, Tolerance.Elementwise);
        Check("softmax_xent_dense", $"{dense} {at} dlogits", dg.ToArray(), g, Tolerance.Elementwise);
        report.Kernel("softmax_xent_dense", Comparison.Of($"{dense} {at} row_loss", loss.ToArray(), rowLoss, Tolerance.Elementwise));
        report.Kernel("softmax_xent_dense", Comparison.Of($"{dense} {at} row_correct", correct.ToArray(), rowCorrect));

        Losses.Softmax(z, p, batch, classes);
        dp.Fill32(KernelRunner.NaNBits);
        var forward = $"kiln::softmax_forward<{classes}>";
        gpu.Run(forward, KernelGeometry.Rows(batch), dz, dp, batch);
        Check("softmax_forward", $"{forward} {at} probs", dp.ToArray(), p, Tolerance.Elementwise);
    }

    // A regression head's kernel (mse, mae) against its CPU twin: dy for the batch, then each row's loss alone.
    private delegate double RegressionLoss(ReadOnlySpan<float> y, ReadOnlySpan<float> targets, Span<float> dy, int batch, int size);

    private void Regression(string kernel, RegressionLoss cpu, int features, int batch, int seed)
    {
        var y = Uniform(batch * features, seed);
        var t = Uniform(y.Length, seed + 1);
        var g = new float[y.Length];
        cpu(y, t, g, batch, features);
        var (rowLoss, _) = PerRow(batch, features, (r, grad) => (cpu(y.AsSpan(r * features, features), t.AsSpan(r * features, features), grad, 1, features), 0));
        using var dy = gpu.Upload<float>(y);
        using var dt = gpu.Upload<float>(t);
        using var dg = gpu.Poisoned<float>(y.Length);
        using var loss = gpu.Poisoned<float>(batch);
        var name = $"kiln::{kernel}<{features}>";
        gpu.Run(name, KernelGeometry.Rows(batch), dy, dt, dg, loss, batch);
        Check(kernel, $"{name} batch {batch} dy", dg.ToArray(), g, Tolerance.Elementwise);
        report.Kernel(kernel, Comparison.Of($"{name} batch {batch} row_loss", loss.ToArray(), rowLoss, Tolerance.Elementwise));
    }

    private void SigmoidBce(int size, int batch, int seed)
    {
        var z = Uniform(batch * size, seed, 4f);
        // Targets 0 and 1 with some soft ones in between.
        var t = Uniform(z.Length, seed + 1).Select(v => v > 0.3f ? 1f : v < -0.3f ? 0f : v + 0.5f).ToArray();
        var (p, g) = (new float[z.Length], new float[z.Length]);
        Losses.SigmoidBinaryCrossEntropy(z, t, p, g, batch, size, out _);
        var (rowLoss, rowCorrect) = PerRow(batch, size, (r, grad) =>
            (Losses.SigmoidBinaryCrossEntropy(z.AsSpan(r * size, size), t.AsSpan(r * size, size), [], grad, 1, size, out var c), c));
        using var dz = gpu.Upload<float>(z);
        using var dt = gpu.Upload<float>(t);
        using var dp = gpu.Poisoned<float>(z.Length);
        using var dg = gpu.Poisoned<float>(z.Length);
        using var loss = gpu.Poisoned<float>(batch);
        using var correct = gpu.Poisoned<int>(batch);
        var name = $"kiln::sigmoid_bce<{size}>";
        gpu.Run(name, KernelGeometry.Rows(batch), dz, dt, dp, dg, loss, correct, batch);
        Check("sigmoid_bce", $"{name} batch {batch} probs", dp.ToArray(), p, Tolerance.Elementwise);
        Check("sigmoid_bce", $"{name} batch {batch} dlogits", dg.ToArray(), g, Tolerance.Elementwise);
        report.Kernel("sigmoid_bce", Comparison.Of($"{name} batch {batch} row_loss", loss.ToArray(), rowLoss, Tolerance.Elementwise));
        report.Kernel("sigmoid_bce", Comparison.Of($"{name} batch {batch} row_correct", correct.ToArray(), rowCorrect));
    }

    /// <summary>Runs a loss head on each row alone (batch 1): the CPU kernels return only the batch's sum.</summary>
    private static (double[] Loss, int[] Correct) PerRow(int batch, int width, Func<int, float[], (double Loss, int Correct)> row)
    {
        var (loss, correct, grad) = (new double[batch], new int[batch], new float[width]);
        for (var r = 0; r < batch; r++)
        {
            (loss[r], correct[r]) = row(r, grad);
        }
        return (loss, correct);
    }

    private void Accumulate(int batch, int seed)
    {
        var rowLoss = Positive(batch, seed, 3f);
        var rowCorrect = Integers(batch, seed + 1, 2);
        double[] lossSum = [0.25];
        int[] correctSum = [3];
        using var dl = gpu.Upload<float>(rowLoss);
        using var dc = gpu.Upload<int>(rowCorrect);
        using var dLossSum = gpu.Upload<double>(lossSum);
        using var dCorrectSum = gpu.Upload<int>(correctSum);
        const string name = "kiln::loss_accumulate";
        // Accumulates, so run twice; the second time without row_correct, which must leave the count alone.
        gpu.Run(name, KernelGeometry.Accumulate, dl, dc, dLossSum, dCorrectSum, batch);
        gpu.Run(name, KernelGeometry.Accumulate, dl, null, dLossSum, dCorrectSum, batch);
        var sum = rowLoss.Sum(v => (double)v);
        report.Kernel("loss_accumulate", Comparison.Of($"{name} batch {batch} loss_sum", dLossSum.ToArray(), [lossSum[0] + 2 * sum], new Tolerance(1e-9, 1e-12), default));
        report.Kernel("loss_accumulate", Comparison.Of($"{name} batch {batch} correct_sum", dCorrectSum.ToArray(), [correctSum[0] + rowCorrect.Sum()]));
    }

    // Optimizer kernels take (p, g, slot0, slot1, slot2, n, scalars); the scalars are read from device memory.
    private void AdamCase(int n, float weightDecay, int seed)
    {
        const float lr = 0.001f, beta1 = 0.9f, beta2 = 0.999f, epsilon = 1e-7f;
        var p = Uniform(n, seed);
        var m = Uniform(n, seed + 1, 0.1f);
        var v = Positive(n, seed + 2, 0.01f);
        using var dp = gpu.Upload<float>(p);
        using var dm = gpu.Upload<float>(m);
        using var dv = gpu.Upload<float>(v);
        for (var t = 1; t <= 3; t++)
        {
            var g = Uniform(n, seed + 2 + t);
            var alpha = Kiln.Runtime.Cpu.Adam.Alpha(lr, beta1, beta2, t);
            Kiln.Runtime.Cpu.Adam.Update(p, g, m, v, alpha, beta1, beta2, epsilon, weightDecay, lr);
            using var dg = gpu.Upload<float>(g);
            using var scalars = gpu.Upload<float>([alpha, beta1, beta2, epsilon, weightDecay, lr]);
            gpu.Run("kiln::adam", KernelGeometry.Elementwise(n), dp, dg, dm, dv, null, n, scalars);
        }
        var what = $"kiln::adam n {n}, weight decay {weightDecay}, 3 steps";
        Check("adam", $"{what}: p", dp.ToArray(), p, Tolerance.Elementwise);
        Check("adam", $"{what}: m", dm.ToArray(), m, Tolerance.Elementwise);
        Check("adam", $"{what}: v", dv.ToArray(), v, Tolerance.Elementwise);
    }

    private void SgdCase(int n, float momentum, bool nesterov, int seed)
    {
        const float lr = 0.01f;
        var p = Uniform(n, seed);
        var velocity = momentum == 0 ? [] : Uniform(n, seed + 1, 0.01f);
        using var dp = gpu.Upload<float>(p);
        // Without momentum the kernel must not touch m, so it gets a null pointer.
        using var dm = momentum == 0 ? null : gpu.Upload<float>(velocity);
        using var scalars = gpu.Upload<float>([lr, momentum, nesterov ? 1f : 0f]);
        for (var t = 1; t <= 3; t++)
        {
            var g = Uniform(n, seed + 1 + t);
            Kiln.Runtime.Cpu.Sgd.Step(p, g, velocity, lr, momentum, nesterov);
            using var dg = gpu.Upload<float>(g);
            gpu.Run("kiln::sgd", KernelGeometry.Elementwise(n), dp, dg, dm, null, null, n, scalars);
        }
        var what = $"kiln::sgd n {n}, momentum {momentum}{(nesterov ? " nesterov" : "")}, 3 steps";
        Check("sgd", $"{what}: p", dp.ToArray(), p, Tolerance.Elementwise);
        if (dm is not null)
        {
            Check("sgd", $"{what}: velocity", dm.ToArray(), velocity, Tolerance.Elementwise);
        }
    }

    private void RmsPropCase(int n, float momentum, bool centered, int seed)
    {
        const float lr = 0.001f, rho = 0.9f, epsilon = 1e-7f;
        var p = Uniform(n, seed);
        var velocity = Positive(n, seed + 1, 0.01f);
        var mom = momentum > 0 ? Uniform(n, seed + 2, 0.001f) : [];
        var average = centered ? Uniform(n, seed + 3, 0.01f) : [];
        using var dp = gpu.Upload<float>(p);
        using var dv = gpu.Upload<float>(velocity);
        using var dm = momentum > 0 ? gpu.Upload<float>(mom) : null;
        using var da = centered ? gpu.Upload<float>(average) : null;
        using var scalars = gpu.Upload<float>([lr, rho, momentum, epsilon, centered ? 1f : 0f]);
        for (var t = 1; t <= 3; t++)
        {
            var g = Uniform(n, seed + 3 + t);
            Kiln.Runtime.Cpu.RmsProp.Step(p, g, velocity, mom, average, lr, rho, momentum, epsilon, centered);
            using var dg = gpu.Upload<float>(g);
            gpu.Run("kiln::rmsprop", KernelGeometry.Elementwise(n), dp, dg, dv, dm, da, n, scalars);
        }
        var what = $"kiln::rmsprop n {n}, momentum {momentum}{(centered ? " centered" : "")}, 3 steps";
        Check("rmsprop", $"{what}: p", dp.ToArray(), p, Tolerance.Elementwise);
        Check("rmsprop", $"{what}: velocity", dv.ToArray(), velocity, Tolerance.Elementwise);
    }

    private void AdagradCase(int n, int seed)
    {
        const float lr = 0.01f, epsilon = 1e-7f;
        var p = Uniform(n, seed);
        var accumulator = Positive(n, seed + 1, 0.1f);
        using var dp = gpu.Upload<float>(p);
        using var da = gpu.Upload<float>(accumulator);
        using var scalars = gpu.Upload<float>([lr, epsilon]);
        for (var t = 1; t <= 3; t++)
        {
            var g = Uniform(n, seed + 1 + t);
            Kiln.Runtime.Cpu.Adagrad.Step(p, g, accumulator, lr, epsilon);
            using var dg = gpu.Upload<float>(g);
            gpu.Run("kiln::adagrad", KernelGeometry.Elementwise(n), dp, dg, da, null, null, n, scalars);
        }
        Check("adagrad", $"kiln::adagrad n {n}, 3 steps: p", dp.ToArray(), p, Tolerance.Elementwise);
        Check("adagrad", $"kiln::adagrad n {n}, 3 steps: accumulator", da.ToArray(), accumulator, Tolerance.Elementwise);
    }

    private void ClipCases(int n, int seed)
    {
        var g = Uniform(n, seed);
        var expected = (float[])g.Clone();
        using (var dg = gpu.Upload<float>(g))
        {
            Kiln.Runtime.Cpu.GradientClipping.ByValue(expected, 0.3f);
            gpu.Run("kiln::clip_value", KernelGeometry.Elementwise(n), dg, n, 0.3f);
            Check("clip_value", $"kiln::clip_value n {n}", dg.ToArray(), expected, Tolerance.Elementwise);
        }
        // Three tensors: a third, a half that is clipped less, and the rest.
        int[] bounds = [0, n / 3, n / 3 + n / 2, n];
        expected = (float[])g.Clone();
        using (var dg = gpu.Upload<float>(g))
        using (var db = gpu.Upload<int>(bounds))
        {
            for (var k = 0; k < 3; k++)
            {
                Kiln.Runtime.Cpu.GradientClipping.ByNorm(expected.AsSpan(bounds[k], bounds[k + 1] - bounds[k]), 1f);
            }
            gpu.Run("kiln::clip_norm", KernelGeometry.PerTensor(3), dg, db, 1f);
            Check("clip_norm", $"kiln::clip_norm n {n}, 3 tensors", dg.ToArray(), expected, Tolerance.Elementwise);
        }
        expected = (float[])g.Clone();
        using (var dg = gpu.Upload<float>(g))
        {
            Kiln.Runtime.Cpu.GradientClipping.ByGlobalNorm(expected, 2f);
            gpu.Run("kiln::clip_global_norm", KernelGeometry.GlobalNorm, dg, n, 2f);
            Check("clip_global_norm", $"kiln::clip_global_norm n {n}", dg.ToArray(), expected, Tolerance.Elementwise);
        }
    }

    private static string Shape(ConvGeometry g) =>
        $"{g.InH}, {g.InW}, {g.InC}, {g.OutH}, {g.OutW}, {g.OutC}, {g.Kernel}, {g.Stride}, {g.PadTop}, {g.PadLeft}";

    private static string Shape(PoolGeometry g) =>
        $"{g.InH}, {g.InW}, {g.Channels}, {g.OutH}, {g.OutW}, {g.Pool}, {g.Stride}, {g.PadTop}, {g.PadLeft}";

    [GeneratedRegex(@"__global__\s+void\s+(\w+)")]
    private static partial Regex GlobalKernel();
}

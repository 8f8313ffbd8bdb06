using Kiln.Runtime.Cpu;
using Kiln.Runtime.Cuda;
using static Kiln.Oracles.RandomData;

namespace GpuCheck;

// The kernels of issue 14's layers: every activation code (fused and standalone), batch norm, average and global
// pools, rescaling; each against its Kiln.Runtime.Cpu twin on NaN-poisoned outputs.
internal sealed partial class KernelChecks
{
    // Every element-wise activation code (4 is softmax); Gelu (7) and Swish (8) have no backward from the output.
    private static readonly int[] ActivationCodes = [0, 1, 2, 3, 5, 6, 7, 8, 9];
    private static readonly int[] NewActivationCodes = [5, 6, 7, 8, 9];

    private static readonly (int Features, int Batch, float Alpha)[] ActivationLayerCases = [(19, 7, 0.3f), (6272, 3, 0.05f)];

    // (rows per sample = H·W, channels, batch, scale, center): after a conv (28×28×16, 7×7×37), after a dense layer.
    private static readonly (int Pixels, int Channels, int Batch, bool Scale, bool Center)[] BatchNormCases =
    [
        (28 * 28, 16, 4, true, true), (7 * 7, 37, 3, true, false), (1, 37, 33, false, true), (1, 5, 1, false, false),
    ];

    private static readonly (PoolGeometry G, int Batch)[] AvgPoolCases =
    [
        (new(28, 28, 16, 14, 14, 2, 2, 0, 0), 4),
        (new(7, 7, 3, 4, 4, 2, 2, 0, 0), 3),  // same on an odd size: the last row and column average fewer cells
        (new(9, 9, 5, 4, 4, 3, 2, 0, 0), 2),  // valid, overlapping
        (new(5, 6, 4, 3, 3, 3, 2, 1, 0), 2),  // same with padding at the top
    ];

    private static readonly (int Pixels, int Channels, int Batch)[] GlobalPoolCases = [(49, 32, 5), (15, 13, 3), (1, 5, 2)];
    private static readonly (int Features, int Batch)[] RescalingCases = [(784, 7), (37, 3)];

    private static IEnumerable<string> LayerNameExpressions()
    {
        foreach (var act in NewActivationCodes)
        {
            yield return $"kiln::dense_forward<37, 19, {act}>";
            yield return $"kiln::conv2d_forward<{Shape(ConvCases[5].G)}, {act}>";
        }
        foreach (var (features, _, _) in ActivationLayerCases)
        {
            foreach (var act in ActivationCodes)
            {
                yield return $"kiln::activation_layer_forward<{features}, {act}>";
                yield return $"kiln::activation_layer_backward<{features}, {act}>";
            }
        }
        foreach (var c in BatchNormCases.Select(c => c.Channels).Distinct())
        {
            foreach (var kernel in new[] { "sums", "square_sums", "variance", "normalize", "inference", "backward_sums", "backward_params", "backward_data" })
            {
                yield return $"kiln::batchnorm_{kernel}<{c}>";
            }
        }
        foreach (var (g, _) in AvgPoolCases)
        {
            yield return $"kiln::avgpool2d_forward<{Shape(g)}>";
            yield return $"kiln::avgpool2d_backward<{Shape(g)}>";
        }
        foreach (var (pixels, channels, _) in GlobalPoolCases)
        {
            foreach (var kernel in new[] { "avgpool2d_forward", "avgpool2d_backward", "maxpool2d_forward", "maxpool2d_backward" })
            {
                yield return $"kiln::global_{kernel}<{pixels}, {channels}>";
            }
        }
        foreach (var (features, _) in RescalingCases)
        {
            yield return $"kiln::rescaling_forward<{features}>";
            yield return $"kiln::rescaling_backward<{features}>";
        }
    }

    private void RunLayers(ref int seed)
    {
        var s = seed;
        foreach (var act in NewActivationCodes)
        {
            Guard($"dense act {act}", () => Dense(23, 37, 19, act, s += 10));
            Guard($"conv2d act {act}", () => Conv(ConvCases[5].G, act, 3, s += 10));
        }
        foreach (var c in ActivationLayerCases)
        {
            Guard($"activation layers {c}", () => ActivationLayers(c.Features, c.Batch, c.Alpha, s += 10));
        }
        foreach (var c in BatchNormCases)
        {
            Guard($"batchnorm {c}", () => BatchNormCase(c.Pixels * c.Batch, c.Channels, c.Scale, c.Center, s += 10));
        }
        foreach (var c in AvgPoolCases)
        {
            Guard($"avgpool2d {c}", () => AvgPool(c.G, c.Batch, s += 10));
        }
        foreach (var c in GlobalPoolCases)
        {
            Guard($"global pools {c}", () => GlobalPools(c.Pixels, c.Channels, c.Batch, s += 10));
        }
        foreach (var c in RescalingCases)
        {
            Guard($"rescaling {c}", () => RescalingCase(c.Features, c.Batch, s += 10));
        }
        seed = s;
    }

    private void ActivationLayers(int features, int batch, float alpha, int seed)
    {
        var n = features * batch;
        var x = Uniform(n, seed, 4f);
        var dy = Uniform(n, seed + 1);
        foreach (var act in ActivationCodes)
        {
            var e = (Epilogue)act;
            var (y, dx) = (new float[n], new float[n]);
            Activations.Forward(x, y, e, alpha);
            Activations.Backward(x, y, dy, dx, e, alpha);
            using var dIn = gpu.Upload(x);
            using var dOut = gpu.Poisoned<float>(n);
            var forward = $"kiln::activation_layer_forward<{features}, {act}>";
            gpu.Run(forward, KernelGeometry.Elementwise(n), dIn, dOut, batch, alpha);
            // Gelu's erfcf, expm1f, log1pf: a few ulps from the CPU's double-evaluated functions.
            Check("activation_layer_forward", $"{forward} batch {batch} alpha {alpha} y", dOut.ToArray(), y, Tolerance.Elementwise);

            // From the CPU's y (the derivative alone); x only where the derivative needs it, else a null pointer.
            using var yIn = gpu.Upload(y);
            using var dyIn = gpu.Upload(dy);
            using var dxOut = gpu.Poisoned<float>(n);
            var needsInput = Activations.BackwardNeedsInput(e);
            var backward = $"kiln::activation_layer_backward<{features}, {act}>";
            gpu.Run(backward, KernelGeometry.Elementwise(n), needsInput ? dIn : null, needsInput ? null : yIn, dyIn, dxOut, batch, alpha);
            Check("activation_layer_backward", $"{backward} batch {batch} alpha {alpha} dx", dxOut.ToArray(), dx, Tolerance.Elementwise);
        }
    }

    private void BatchNormCase(int rows, int c, bool scale, bool center, int seed)
    {
        const float momentum = 0.9f, epsilon = 1e-3f;
        var x = Uniform(rows * c, seed, 2f);
        var offset = Uniform(c, seed + 1, 3f);
        for (var i = 0; i < x.Length; i++)
        {
            x[i] += offset[i % c];
        }
        var gamma = scale ? Uniform(c, seed + 2) : [];
        var beta = center ? Uniform(c, seed + 3) : [];
        var movingMean0 = Uniform(c, seed + 4);
        var movingVariance0 = Positive(c, seed + 5);
        var dyHost = Uniform(x.Length, seed + 6);
        var at = $"rows {rows}, scale {scale}, center {center}";

        var (y, mean, invStd) = (new float[x.Length], new float[c], new float[c]);
        var (movingMean, movingVariance) = (movingMean0.ToArray(), movingVariance0.ToArray());
        BatchNorm.ForwardTraining(x, gamma, beta, y, mean, invStd, movingMean, movingVariance, rows, c, momentum, epsilon);
        var absMean = new float[c];
        for (var i = 0; i < x.Length; i++)
        {
            absMean[i % c] += Math.Abs(x[i]) / rows;
        }

        var splits = KernelGeometry.BatchNormSplits(rows);
        using var dx = gpu.Upload(x);
        using var dg = scale ? gpu.Upload(gamma) : null;
        using var db = center ? gpu.Upload(beta) : null;
        using var dMean = gpu.Poisoned<float>(c);
        using var dInv = gpu.Poisoned<float>(c);
        using var dMovingMean = gpu.Upload(movingMean0);
        using var dMovingVariance = gpu.Upload(movingVariance0);
        using var workspace = gpu.Poisoned<float>(KernelGeometry.BatchNormWorkspace(rows, c));
        using var dy = gpu.Poisoned<float>(x.Length);
        gpu.Run($"kiln::batchnorm_sums<{c}>", KernelGeometry.BatchNormReduce(rows, c), dx, workspace, rows);
        gpu.Run($"kiln::batchnorm_square_sums<{c}>", KernelGeometry.BatchNormReduce(rows, c), dx, dMean, workspace, rows);
        gpu.Run($"kiln::batchnorm_variance<{c}>", KernelGeometry.BatchNormPerChannel(c), workspace, dMean, dInv, dMovingMean, dMovingVariance, rows, splits, momentum, epsilon);
        gpu.Run($"kiln::batchnorm_normalize<{c}>", KernelGeometry.Elementwise((long)rows * c), dx, dg, db, dMean, dInv, dy, rows);
        var sums = Tolerance.Reduction(rows);
        report.Kernel("batchnorm_sums", Comparison.Of($"batchnorm_sums then square_sums {at}: mean", dMean.ToArray(), mean, sums, absMean));
        Check("batchnorm_square_sums", $"batchnorm_square_sums then variance {at}: 1/σ", dInv.ToArray(), invStd, new Tolerance(1e-6, 1e-4));
        Check("batchnorm_variance", $"batchnorm_variance {at}: moving mean", dMovingMean.ToArray(), movingMean, new Tolerance(1e-5, 1e-4));
        Check("batchnorm_variance", $"batchnorm_variance {at}: moving variance", dMovingVariance.ToArray(), movingVariance, new Tolerance(1e-5, 1e-4));
        Check("batchnorm_normalize", $"batchnorm training forward {at}: y", dy.ToArray(), y, new Tolerance(1e-4, 1e-4));

        // Inference from the CPU's moving statistics: the same formula and roundings on both sides.
        var yInference = new float[x.Length];
        BatchNorm.ForwardInference(x, gamma, beta, movingMean, movingVariance, yInference, rows, c, epsilon);
        using var mm = gpu.Upload(movingMean);
        using var mv = gpu.Upload(movingVariance);
        dy.Fill32(KernelRunner.NaNBits);
        gpu.Run($"kiln::batchnorm_inference<{c}>", KernelGeometry.Elementwise((long)rows * c), dx, dg, db, mm, mv, dy, rows, epsilon);
        Check("batchnorm_inference", $"batchnorm_inference {at}: y", dy.ToArray(), yInference, Tolerance.Elementwise);

        // Backward from the CPU's statistics, so it checks the backward alone.
        var (dxRef, dgRef, dbRef) = (new float[x.Length], new float[c], new float[c]);
        BatchNorm.Backward(x, dyHost, gamma, mean, invStd, dxRef, dgRef, dbRef, rows, c);
        var (dgMag, dbMag) = (new float[c], new float[c]);
        for (var i = 0; i < x.Length; i++)
        {
            dbMag[i % c] += Math.Abs(dyHost[i]);
            dgMag[i % c] += Math.Abs(dyHost[i] * (x[i] - mean[i % c]) * invStd[i % c]);
        }
        using var hostMean = gpu.Upload(mean);
        using var hostInv = gpu.Upload(invStd);
        using var dIn = gpu.Upload(dyHost);
        using var reduced = gpu.Poisoned<float>(2 * c);
        using var dgOut = gpu.Poisoned<float>(c);
        using var dbOut = gpu.Poisoned<float>(c);
        using var dxOut = gpu.Poisoned<float>(x.Length);
        workspace.Fill32(KernelRunner.NaNBits);
        gpu.Run($"kiln::batchnorm_backward_sums<{c}>", KernelGeometry.BatchNormReduce(rows, c), dx, dIn, hostMean, hostInv, workspace, rows);
        gpu.Run($"kiln::batchnorm_backward_params<{c}>", KernelGeometry.BatchNormPerChannel(c), workspace, reduced, scale ? dgOut : null, center ? dbOut : null, splits);
        gpu.Run($"kiln::batchnorm_backward_data<{c}>", KernelGeometry.Elementwise((long)rows * c), dx, dIn, dg, hostMean, hostInv, reduced, dxOut, rows);
        if (center)
        {
            report.Kernel("batchnorm_backward_sums", Comparison.Of($"batchnorm backward {at}: dβ", dbOut.ToArray(), dbRef, sums, dbMag));
        }
        if (scale)
        {
            report.Kernel("batchnorm_backward_params", Comparison.Of($"batchnorm backward {at}: dγ", dgOut.ToArray(), dgRef, sums, dgMag));
        }
        // Gradients not wanted (null pointers) stay unwritten: still NaN.
        report.Expect($"batchnorm_backward_params {at}: null dγ/dβ left alone", (scale || dgOut.ToArray().All(float.IsNaN)) && (center || dbOut.ToArray().All(float.IsNaN)), $"scale {scale}, center {center}");
        Check("batchnorm_backward_data", $"batchnorm backward {at}: dx", dxOut.ToArray(), dxRef, new Tolerance(1e-4, 1e-3));
    }

    private void AvgPool(PoolGeometry g, int batch, int seed)
    {
        var x = Uniform(batch * g.InSize, seed);
        var dz = Uniform(batch * g.OutSize, seed + 1);
        var (y, dxRef) = (new float[batch * g.OutSize], new float[x.Length]);
        AvgPool2D.Forward(x, y, batch, g);
        AvgPool2D.Backward(dz, dxRef, batch, g);
        var at = $"batch {batch}";
        using var dx = gpu.Upload(x);
        using var dy = gpu.Poisoned<float>(y.Length);
        var forward = $"kiln::avgpool2d_forward<{Shape(g)}>";
        gpu.Run(forward, KernelGeometry.AvgPool2DForward(batch, g.OutH, g.OutW, g.Channels), dx, dy, batch);
        // The same sums in the same order and the same division: the same bits.
        Check("avgpool2d_forward", $"{forward} {at} y", dy.ToArray(), y, Tolerance.Exact);
        using var ddz = gpu.Upload(dz);
        using var dxOut = gpu.Poisoned<float>(x.Length);
        var backward = $"kiln::avgpool2d_backward<{Shape(g)}>";
        gpu.Run(backward, KernelGeometry.AvgPool2DBackward(batch, g.InH, g.InW, g.Channels), ddz, dxOut, batch);
        Check("avgpool2d_backward", $"{backward} {at} dx", dxOut.ToArray(), dxRef, Tolerance.Exact);
    }

    private void GlobalPools(int pixels, int c, int batch, int seed)
    {
        // Few distinct values, so the max pool meets ties: both sides must pick the first pixel.
        var x = Uniform(batch * pixels * c, seed).Select(v => MathF.Round(v * 4) / 4 + 0.125f).ToArray();
        var dz = Uniform(batch * c, seed + 1);
        var at = $"batch {batch}";
        using var dx = gpu.Upload(x);
        using var ddz = gpu.Upload(dz);

        var (y, dxRef) = (new float[batch * c], new float[x.Length]);
        GlobalPool2D.AverageForward(x, y, batch, pixels, c);
        GlobalPool2D.AverageBackward(dz, dxRef, batch, pixels, c);
        using var dy = gpu.Poisoned<float>(y.Length);
        var forward = $"kiln::global_avgpool2d_forward<{pixels}, {c}>";
        gpu.Run(forward, KernelGeometry.GlobalPool2DForward(batch, c), dx, dy, batch);
        Check("global_avgpool2d_forward", $"{forward} {at} y", dy.ToArray(), y, Tolerance.Exact);
        using var dxOut = gpu.Poisoned<float>(x.Length);
        var backward = $"kiln::global_avgpool2d_backward<{pixels}, {c}>";
        gpu.Run(backward, KernelGeometry.GlobalPool2DBackward(batch, pixels, c), ddz, dxOut, batch);
        Check("global_avgpool2d_backward", $"{backward} {at} dx", dxOut.ToArray(), dxRef, Tolerance.Exact);

        var argmax = new int[y.Length];
        GlobalPool2D.MaxForward(x, y, argmax, batch, pixels, c);
        GlobalPool2D.MaxBackward(dz, argmax, dxRef, batch, pixels, c);
        dy.Fill32(KernelRunner.NaNBits);
        using var darg = gpu.Poisoned<int>(y.Length);
        var maxForward = $"kiln::global_maxpool2d_forward<{pixels}, {c}>";
        gpu.Run(maxForward, KernelGeometry.GlobalPool2DForward(batch, c), dx, dy, darg, batch);
        Check("global_maxpool2d_forward", $"{maxForward} {at} y", dy.ToArray(), y, Tolerance.Exact);
        report.Kernel("global_maxpool2d_forward", Comparison.Of($"{maxForward} {at} argmax", darg.ToArray(), argmax));
        dy.Fill32(KernelRunner.NaNBits);
        gpu.Run(maxForward, KernelGeometry.GlobalPool2DForward(batch, c), dx, dy, null, batch);
        Check("global_maxpool2d_forward", $"{maxForward} {at} y without argmax", dy.ToArray(), y, Tolerance.Exact);
        dxOut.Fill32(KernelRunner.NaNBits);
        var maxBackward = $"kiln::global_maxpool2d_backward<{pixels}, {c}>";
        gpu.Run(maxBackward, KernelGeometry.GlobalPool2DBackward(batch, pixels, c), ddz, darg, dxOut, batch);
        Check("global_maxpool2d_backward", $"{maxBackward} {at} dx", dxOut.ToArray(), dxRef, Tolerance.Exact);
    }

    private void RescalingCase(int features, int batch, int seed)
    {
        const float scale = 1f / 255, offset = -0.5f;
        var n = features * batch;
        var x = Uniform(n, seed, 255f);
        var dz = Uniform(n, seed + 1);
        var (y, dxRef) = (new float[n], new float[n]);
        Rescaling.Forward(x, y, scale, offset);
        Rescaling.Backward(dz, dxRef, scale);
        using var dx = gpu.Upload(x);
        using var dy = gpu.Poisoned<float>(n);
        var forward = $"kiln::rescaling_forward<{features}>";
        gpu.Run(forward, KernelGeometry.Elementwise(n), dx, dy, batch, scale, offset);
        Check("rescaling_forward", $"{forward} batch {batch} y", dy.ToArray(), y, Tolerance.Exact);
        using var ddz = gpu.Upload(dz);
        using var dxOut = gpu.Poisoned<float>(n);
        var backward = $"kiln::rescaling_backward<{features}>";
        gpu.Run(backward, KernelGeometry.Elementwise(n), ddz, dxOut, batch, scale);
        Check("rescaling_backward", $"{backward} batch {batch} dx", dxOut.ToArray(), dxRef, Tolerance.Exact);
    }
}

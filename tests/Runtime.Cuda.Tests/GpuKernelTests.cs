using Kiln.Runtime.Cpu;
using Kiln.Runtime.Cuda;
using static Kiln.Runtime.Cuda.Tests.GpuHarness;

namespace Kiln.Runtime.Cuda.Tests;

/// <summary>Runs every kernel on a real device against float64 oracles. Skipped without a CUDA device.</summary>
public sealed class GpuKernelTests
{
    private static KernelRunner Gpu => Instance;

    [CudaFact]
    public void The_device_is_described_and_gets_a_cubin()
    {
        var device = Gpu.Context.Device;
        Assert.False(string.IsNullOrWhiteSpace(device.Name));
        Assert.True(device.ComputeCapability >= 50);
        Assert.True(CudaDevice.DriverVersion > 0);
        Assert.NotEmpty(Gpu.Program.Image.ToArray());
    }

    [CudaFact]
    public void Dense_forward_and_backward_match_the_reference()
    {
        const int batch = 23, inF = 37, outF = 19;
        var x = Random(batch * inF, 1);
        var w = Random(inF * outF, 2, 0.3f);
        var b = Random(outF, 3, 0.1f);
        var dyIn = Random(batch * outF, 4);
        using var dx = Gpu.Upload(x);
        using var dw = Gpu.Upload(w);
        using var db = Gpu.Upload(b);
        for (int act = 0; act < 4; act++)
        {
            using var y = Gpu.Poisoned<float>(batch * outF);
            Gpu.Run($"kiln::dense_forward<{inF},{outF},{act}>", KernelGeometry.DenseForward(batch, inF, outF), dx, dw, db, y, batch);
            var yRef = DenseReference.Forward(D(x), D(w), D(b), batch, inF, outF, (Epilogue)act);
            Validate($"dense_forward act {act}", y.ToArray(), yRef);

            using var dy = Gpu.Upload(dyIn);
            Gpu.Run($"kiln::activation_backward<{outF},{act}>", KernelGeometry.Elementwise(batch * outF), y, dy, batch);
            var yOut = y.ToArray();
            var gRef = dyIn.Select((g, i) => ActivationReference.GradientFromOutput(yOut[i], g, (Epilogue)act)).ToArray();
            var g = dy.ToArray();
            Validate($"activation_backward act {act}", g, gRef, 1e-6, 1e-5);

            using var dxOut = Gpu.Poisoned<float>(batch * inF);
            Gpu.Run($"kiln::dense_backward_data<{inF},{outF}>", KernelGeometry.DenseBackwardData(batch, inF, outF), dy, dw, dxOut, batch);
            Validate("dense_backward_data", dxOut.ToArray(), DenseReference.BackwardData(D(g), D(w), batch, inF, outF));

            using var dwOut = Gpu.Poisoned<float>(inF * outF);
            using var dbOut = Gpu.Poisoned<float>(outF);
            Gpu.Run($"kiln::dense_backward_weights<{inF},{outF}>", KernelGeometry.DenseBackwardWeights(batch, inF, outF), dx, dy, dwOut, dbOut, batch);
            var (dwRef, dbRef) = DenseReference.BackwardWeights(D(x), D(g), batch, inF, outF);
            Validate("dense_backward_weights dw", dwOut.ToArray(), dwRef);
            Validate("dense_backward_weights db", dbOut.ToArray(), dbRef);
        }
    }

    [CudaFact]
    public void Conv2d_matches_the_reference_on_odd_and_mnist_shapes()
    {
        foreach (var (c, act, batch) in new[] { (OddValid, 3, 5), (OddSame, 2, 3), (MnistConv2, 1, 3) })
        {
            var x = Random(batch * c.InSize, 10);
            var w = Random(c.PatchSize * c.OutC, 11, 0.2f);
            var b = Random(c.OutC, 12, 0.1f);
            var g = Random(batch * c.OutSize, 13);
            using var dx = Gpu.Upload(x);
            using var dw = Gpu.Upload(w);
            using var db = Gpu.Upload(b);
            using var dg = Gpu.Upload(g);
            using var y = Gpu.Poisoned<float>(batch * c.OutSize);
            Gpu.Run($"kiln::conv2d_forward<{Template(c)},{act}>", KernelGeometry.Conv2DForward(batch, c.OutH, c.OutW, c.OutC), dx, dw, db, y, batch);
            Validate($"conv2d_forward {c}", y.ToArray(), Conv2DReference.Forward(D(x), D(w), D(b), batch, c, (Epilogue)act));

            var dxRef = Conv2DReference.BackwardData(D(g), D(w), batch, c);
            var (dwRef, dbRef) = Conv2DReference.BackwardWeights(D(x), D(g), batch, c);
            using var dxOut = Gpu.Poisoned<float>(batch * c.InSize);
            Gpu.Run($"kiln::conv2d_backward_data<{Template(c)}>", KernelGeometry.Conv2DBackwardData(batch, c.InH, c.InW, c.InC), dg, dw, dxOut, batch);
            Validate($"conv2d_backward_data {c}", dxOut.ToArray(), dxRef);

            using var dwOut = Gpu.Poisoned<float>(c.PatchSize * c.OutC);
            using var dbOut = Gpu.Poisoned<float>(c.OutC);
            using var workspace = Gpu.Poisoned<float>(KernelGeometry.Conv2DWeightWorkspace(batch, c.OutH, c.OutW, c.Kernel, c.InC, c.OutC));
            void WeightGradient()
            {
                Gpu.Run($"kiln::conv2d_backward_weights<{Template(c)}>", KernelGeometry.Conv2DBackwardWeights(batch, c.OutH, c.OutW, c.Kernel, c.InC, c.OutC), dx, dg, workspace, batch);
                Gpu.Run($"kiln::conv2d_weight_grad_reduce<{c.PatchSize * c.OutC},{c.OutC}>", KernelGeometry.Conv2DWeightGradReduce(c.Kernel, c.InC, c.OutC), workspace, dwOut, dbOut,
                    KernelGeometry.WeightSplits(batch, c.OutH, c.OutW));
            }
            WeightGradient();
            Validate($"conv2d_backward_weights dw {c}", dwOut.ToArray(), dwRef, 1e-3, 1e-3);
            Validate($"conv2d_backward_weights db {c}", dbOut.ToArray(), dbRef, 1e-3, 1e-3);

            // Deterministic: the same launches give the same bits.
            var first = dwOut.ToArray();
            WeightGradient();
            Exact("conv2d_backward_weights rerun", dwOut.ToArray(), first);
        }
    }

    [CudaFact]
    public void Maxpool_breaks_ties_to_the_first_maximum_and_gathers_exactly()
    {
        foreach (var (inH, inW, ch, outH, outW, k, s, pt, pl, batch) in new[] { (5, 6, 4, 3, 3, 3, 2, 1, 0, 3), (28, 28, 16, 14, 14, 2, 2, 0, 0, 2), (14, 14, 32, 7, 7, 2, 2, 0, 0, 2) })
        {
            // Few distinct values, so windows hold ties.
            var x = Random(batch * inH * inW * ch, 20).Select(v => MathF.Round(v * 2) / 2).ToArray();
            var g = Random(batch * outH * outW * ch, 21);
            var pool = new PoolGeometry(inH, inW, ch, outH, outW, k, s, pt, pl);
            var (yDouble, argRef) = MaxPool2DReference.Forward(D(x), batch, pool);
            var yRef = yDouble.Select(v => (float)v).ToArray(); // a maximum is one of the inputs: exact
            var dxRef = MaxPool2DReference.Backward(g, argRef, batch, pool);
            var shape = $"{inH},{inW},{ch},{outH},{outW},{k},{s},{pt},{pl}";
            using var dx = Gpu.Upload(x);
            using var y = Gpu.Poisoned<float>(yRef.Length);
            using var arg = Gpu.Poisoned<int>(yRef.Length);
            Gpu.Run($"kiln::maxpool2d_forward<{shape}>", KernelGeometry.MaxPool2DForward(batch, outH, outW, ch), dx, y, arg, batch);
            Exact("maxpool2d_forward y", y.ToArray(), yRef);
            Exact("maxpool2d_forward argmax", arg.ToArray(), argRef);

            using var dg = Gpu.Upload(g);
            using var dxOut = Gpu.Poisoned<float>(dxRef.Length);
            Gpu.Run($"kiln::maxpool2d_backward<{shape}>", KernelGeometry.MaxPool2DBackward(batch, inH, inW, ch), dg, arg, dxOut, batch);
            Exact("maxpool2d_backward", dxOut.ToArray(), dxRef);
        }
    }

    [CudaFact]
    public void Softmax_cross_entropy_and_the_accumulator_match_the_reference()
    {
        foreach (var (classes, batch) in new[] { (10, 37), (3, 150), (37, 5) })
        {
            var z = Random(batch * classes, 30, 4f);
            var labels = Enumerable.Range(0, batch).Select(i => (i * 7) % classes).ToArray();
            using var dz = Gpu.Upload(z);
            using var dl = Gpu.Upload(labels);
            using var probs = Gpu.Poisoned<float>(z.Length);
            using var grad = Gpu.Poisoned<float>(z.Length);
            using var loss = Gpu.Poisoned<float>(batch);
            using var correct = Gpu.Poisoned<int>(batch);
            Gpu.Run($"kiln::softmax_xent_sparse<{classes}>", KernelGeometry.Rows(batch), dz, dl, probs, grad, loss, correct, batch);

            var pRef = new double[z.Length];
            var gRef = new double[z.Length];
            var lRef = new double[batch];
            var cRef = new int[batch];
            for (int n = 0; n < batch; n++)
            {
                var row = z.AsSpan(n * classes, classes).ToArray();
                double m = row.Max();
                double sum = row.Sum(v => Math.Exp(v - m));
                int best = 0;
                for (int j = 0; j < classes; j++)
                {
                    pRef[n * classes + j] = Math.Exp(row[j] - m) / sum;
                    gRef[n * classes + j] = (pRef[n * classes + j] - (j == labels[n] ? 1 : 0)) / batch;
                    if (row[j] > row[best])
                    {
                        best = j;
                    }
                }
                lRef[n] = Math.Log(sum) - (row[labels[n]] - m);
                cRef[n] = best == labels[n] ? 1 : 0;
            }
            Validate("softmax probs", probs.ToArray(), pRef, 1e-6, 1e-5);
            Validate("softmax dlogits", grad.ToArray(), gRef, 1e-6, 1e-5);
            Validate("softmax row loss", loss.ToArray(), lRef, 1e-5, 1e-5);
            Exact("softmax correct", correct.ToArray(), cRef);

            using var lossSum = Gpu.Context.Allocate<double>(1);
            using var correctSum = Gpu.Context.Allocate<int>(1);
            lossSum.Clear();
            correctSum.Clear();
            for (int rep = 0; rep < 2; rep++)
            {
                Gpu.Run("kiln::loss_accumulate", KernelGeometry.Accumulate, loss, correct, lossSum, correctSum, batch);
            }
            Assert.Equal(2 * lRef.Sum(), lossSum.ToArray()[0], 1e-3);
            Assert.Equal(2 * cRef.Sum(), correctSum.ToArray()[0]);
        }
    }

    [CudaFact]
    public void Mse_matches_the_reference()
    {
        const int features = 37, batch = 11;
        var y = Random(batch * features, 40);
        var t = Random(batch * features, 41);
        using var dy = Gpu.Upload(y);
        using var dt = Gpu.Upload(t);
        using var grad = Gpu.Poisoned<float>(y.Length);
        using var loss = Gpu.Poisoned<float>(batch);
        Gpu.Run($"kiln::mse<{features}>", KernelGeometry.Rows(batch), dy, dt, grad, loss, batch);
        var gRef = y.Select((v, i) => 2.0 * (v - t[i]) / (features * batch)).ToArray();
        var lRef = Enumerable.Range(0, batch).Select(n => Enumerable.Range(0, features).Sum(j => Math.Pow(y[n * features + j] - t[n * features + j], 2)) / features).ToArray();
        Validate("mse grad", grad.ToArray(), gRef, 1e-6, 1e-5);
        Validate("mse loss", loss.ToArray(), lRef, 1e-5, 1e-5);
    }

    [CudaFact]
    public void Mae_matches_the_cpu_twin()
    {
        const int features = 37, batch = 11;
        var y = Random(batch * features, 42);
        var t = Random(batch * features, 43);
        t[5] = y[5]; // an exact tie: both give it a zero gradient
        using var dy = Gpu.Upload(y);
        using var dt = Gpu.Upload(t);
        using var grad = Gpu.Poisoned<float>(y.Length);
        using var loss = Gpu.Poisoned<float>(batch);
        Gpu.Run($"kiln::mae<{features}>", KernelGeometry.Rows(batch), dy, dt, grad, loss, batch);
        var gRef = new float[y.Length];
        Losses.MeanAbsoluteError(y, t, default, gRef, batch, features, out _);
        var lRef = Enumerable.Range(0, batch).Select(n => Enumerable.Range(0, features).Sum(j => Math.Abs((double)y[n * features + j] - t[n * features + j])) / features).ToArray();
        Validate("mae grad", grad.ToArray(), D(gRef), 1e-9, 0);
        Validate("mae loss", loss.ToArray(), lRef, 1e-5, 1e-5);
    }

    [CudaFact]
    public void Dropout_uses_the_shared_hash_bit_for_bit()
    {
        const int features = 37, batch = 9;
        const uint seed = 0xC0FFEE, step = 17;
        const float rate = 0.3f;
        var x = Random(batch * features, 50);
        using var dx = Gpu.Upload(x);
        using var y = Gpu.Poisoned<float>(x.Length);
        using var dStep = Gpu.Upload(new[] { (int)step });
        Gpu.Run($"kiln::dropout_forward<{features}>", KernelGeometry.Elementwise(x.Length), dx, y, batch, seed, dStep, rate);
        var expected = x.Select((v, i) => DropoutReference.Keep(seed, step, (uint)i, rate) ? v / (1f - rate) : 0f).ToArray();
        Exact("dropout_forward", y.ToArray(), expected);
        int kept = expected.Count(v => v != 0);
        Assert.InRange(kept, x.Length * 0.55, x.Length * 0.85);

        using var dxOut = Gpu.Poisoned<float>(x.Length);
        Gpu.Run($"kiln::dropout_backward<{features}>", KernelGeometry.Elementwise(x.Length), dx, dxOut, batch, seed, dStep, rate);
        Exact("dropout_backward", dxOut.ToArray(), expected);
    }

    [CudaFact]
    public void Adam_and_sgd_follow_keras()
    {
        const int n = 1000;
        var p = Random(n, 60);
        var grads = Enumerable.Range(0, 3).Select(s => Random(n, 61 + s)).ToArray();
        using var dp = Gpu.Upload(p);
        using var dm = Gpu.Context.Allocate<float>(n);
        using var dv = Gpu.Context.Allocate<float>(n);
        dm.Clear();
        dv.Clear();
        var (pr, mr, vr) = (p.Select(v => (double)v).ToArray(), new double[n], new double[n]);
        const double lr = 0.001, b1 = 0.9, b2 = 0.999, eps = 1e-7;
        for (int t = 1; t <= 3; t++)
        {
            double alpha = lr * Math.Sqrt(1 - Math.Pow(b2, t)) / (1 - Math.Pow(b1, t));
            using var dg = Gpu.Upload(grads[t - 1]);
            using var scalars = Gpu.Upload(new[] { (float)alpha, (float)b1, (float)b2, (float)eps, 0f, (float)lr });
            Gpu.Run("kiln::adam", KernelGeometry.Elementwise(n), dp, dg, dm, dv, null, n, scalars);
            for (int i = 0; i < n; i++)
            {
                double g = grads[t - 1][i];
                mr[i] += (g - mr[i]) * (1 - b1);
                vr[i] += (g * g - vr[i]) * (1 - b2);
                pr[i] -= mr[i] * alpha / (Math.Sqrt(vr[i]) + eps);
            }
        }
        Validate("adam p", dp.ToArray(), pr, 1e-6, 1e-5);

        foreach (var nesterov in new[] { 0f, 1f })
        {
            using var sp = Gpu.Upload(p);
            using var sm = Gpu.Context.Allocate<float>(n);
            sm.Clear();
            var (spr, smr) = (p.Select(v => (double)v).ToArray(), new double[n]);
            const double slr = 0.01, mom = 0.9;
            using var scalars = Gpu.Upload(new[] { (float)slr, (float)mom, nesterov });
            foreach (var gr in grads)
            {
                using var dg = Gpu.Upload(gr);
                Gpu.Run("kiln::sgd", KernelGeometry.Elementwise(n), sp, dg, sm, null, null, n, scalars);
                for (int i = 0; i < n; i++)
                {
                    smr[i] = -gr[i] * slr + smr[i] * mom;
                    spr[i] += nesterov == 1 ? -gr[i] * slr + smr[i] * mom : smr[i];
                }
            }
            Validate($"sgd nesterov={nesterov}", sp.ToArray(), spr, 1e-6, 1e-5);
        }
    }

    [CudaFact]
    public void A_captured_graph_replays_the_launches()
    {
        const int batch = 23, inF = 37, outF = 19;
        var x = Random(batch * inF, 70);
        var w = Random(inF * outF, 71, 0.3f);
        var b = Random(outF, 72, 0.1f);
        using var dx = Gpu.Upload(x);
        using var dw = Gpu.Upload(w);
        using var db = Gpu.Upload(b);
        using var y = Gpu.Poisoned<float>(batch * outF);
        using var stream = Gpu.Context.CreateStream();
        var fn = Gpu.Module.GetFunctionByExpression($"kiln::dense_forward<{inF},{outF},1>");
        using var graph = CudaGraph.Capture(stream, () => Gpu.Module.Launch(fn, KernelGeometry.DenseForward(batch, inF, outF), stream, dx.Pointer, dw.Pointer, db.Pointer, y.Pointer, batch));
        // The uploads and the poisoning ran on the legacy stream, which the non-blocking stream does not wait for.
        Gpu.Context.Synchronize();
        graph.Launch(stream);
        stream.Synchronize();
        Validate("graph dense_forward", y.ToArray(), DenseReference.Forward(D(x), D(w), D(b), batch, inF, outF, Epilogue.Relu));
    }

    [CudaFact]
    public void Pinned_async_copies_round_trip()
    {
        using var pinned = Gpu.Context.AllocatePinned<float>(1000);
        var data = Random(1000, 80);
        data.CopyTo(pinned.AsSpan());
        using var buffer = Gpu.Context.Allocate<float>(1000);
        using var back = Gpu.Context.AllocatePinned<float>(1000);
        using var stream = Gpu.Context.CreateStream();
        buffer.UploadAsync(pinned, stream);
        buffer.DownloadAsync(back, stream);
        stream.Synchronize();
        Exact("pinned round trip", back.AsSpan().ToArray(), data);
    }

    [CudaFact]
    public void A_launch_error_names_the_kernel()
    {
        var fn = Gpu.Module.GetFunctionByExpression("kiln::adam");
        var e = Assert.Throws<CudaException>(() => Gpu.Module.Launch(fn, new LaunchShape(1, 4096), null, 0UL));
        Assert.Contains("cuLaunchKernel", e.Message, StringComparison.Ordinal);
        Assert.Contains("CUDA_ERROR_", e.Message, StringComparison.Ordinal);
    }
}

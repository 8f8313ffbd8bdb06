using System.Text;
using Kiln.Runtime.Cpu;

// Usage: LayerCheck FILE. Runs every new CPU kernel of issue 14 (BatchNorm in training mode, AvgPool2D same and valid,
// the global pools, every activation as a layer, Rescaling) on seeded inputs and writes inputs, outputs and gradients to
// FILE as records: name (int32 byte count + UTF-8), rank (int32), dims (int32 each), float32 values (little-endian).
// bench/layer_crosscheck.py reads them and recomputes everything with torch in float64.
if (args.Length != 1)
{
    Console.Error.WriteLine("Usage: LayerCheck FILE");
    return 64;
}
var temp = args[0] + ".tmp";
using (var writer = new BinaryWriter(File.Create(temp), Encoding.UTF8))
{
    var records = new Records(writer);
    BatchNormCase(records, "bn_conv", batch: 3, h: 5, w: 7, c: 13, scale: true, center: true);
    BatchNormCase(records, "bn_dense", batch: 9, h: 1, w: 1, c: 6, scale: false, center: true);
    AvgPoolCase(records, "avgpool_same", 3, 7, 7, 5, pool: 2, stride: 2, same: true);
    AvgPoolCase(records, "avgpool_same_s1", 2, 5, 6, 4, pool: 3, stride: 1, same: true);
    AvgPoolCase(records, "avgpool_valid", 2, 9, 11, 3, pool: 3, stride: 2, same: false);
    GlobalPoolCase(records, "global", 3, 7, 5, 11);
    foreach (var (act, alpha) in new[] { (Epilogue.Relu, 0f), (Epilogue.Sigmoid, 0f), (Epilogue.Tanh, 0f), (Epilogue.LeakyRelu, 0.2f), (Epilogue.LeakyRelu, 0.05f), (Epilogue.Elu, 1f), (Epilogue.Elu, 0.7f), (Epilogue.Gelu, 0f), (Epilogue.Swish, 0f), (Epilogue.Softplus, 0f) })
    {
        ActivationCase(records, $"act_{act}_{(int)MathF.Round(alpha * 1000)}".ToLowerInvariant(), act, alpha); // alpha in thousandths: no dot in a record name
    }
    RescalingCase(records, "rescaling", 1f / 127.5f, -1f);
}
File.Move(temp, args[0], overwrite: true);
Console.WriteLine($"wrote {args[0]}");
return 0;

static float[] Random(int n, int seed, float scale = 1f)
{
    var rng = new Random(seed);
    return Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1) * scale).ToArray();
}

static void BatchNormCase(Records r, string name, int batch, int h, int w, int c, bool scale, bool center)
{
    var rows = batch * h * w;
    var x = Random(rows * c, 1, 3f).Select((v, i) => v + i % c * 0.5f).ToArray();
    var gamma = scale ? Random(c, 2) : [];
    var beta = center ? Random(c, 3) : [];
    var movingMean = Random(c, 4);
    var movingVariance = Random(c, 5).Select(v => Math.Abs(v) + 0.5f).ToArray();
    var dy = Random(x.Length, 6);
    r.Add($"{name}.x", x, batch, h, w, c);
    r.Add($"{name}.gamma", gamma, gamma.Length);
    r.Add($"{name}.beta", beta, beta.Length);
    r.Add($"{name}.moving_mean_in", movingMean, c);
    r.Add($"{name}.moving_variance_in", movingVariance, c);
    r.Add($"{name}.dy", dy, batch, h, w, c);
    var (y, mean, invStd) = (new float[x.Length], new float[c], new float[c]);
    BatchNorm.ForwardTraining(x, gamma, beta, y, mean, invStd, movingMean, movingVariance, rows, c, BatchNorm.DefaultMomentum, BatchNorm.DefaultEpsilon);
    var (dx, dgamma, dbeta) = (new float[x.Length], new float[gamma.Length], new float[beta.Length]);
    BatchNorm.Backward(x, dy, gamma, mean, invStd, dx, dgamma, dbeta, rows, c);
    var yInference = new float[x.Length];
    BatchNorm.ForwardInference(x, gamma, beta, movingMean, movingVariance, yInference, rows, c, BatchNorm.DefaultEpsilon);
    r.Add($"{name}.y", y, batch, h, w, c);
    r.Add($"{name}.moving_mean", movingMean, c);
    r.Add($"{name}.moving_variance", movingVariance, c);
    r.Add($"{name}.y_inference", yInference, batch, h, w, c);
    r.Add($"{name}.dx", dx, batch, h, w, c);
    r.Add($"{name}.dgamma", dgamma, dgamma.Length);
    r.Add($"{name}.dbeta", dbeta, dbeta.Length);
}

static void AvgPoolCase(Records r, string name, int batch, int inH, int inW, int c, int pool, int stride, bool same)
{
    var (outH, top) = Out(inH, pool, stride, same);
    var (outW, left) = Out(inW, pool, stride, same);
    var g = new PoolGeometry(inH, inW, c, outH, outW, pool, stride, top, left);
    var x = Random(batch * g.InSize, 7);
    var dy = Random(batch * g.OutSize, 8);
    var (y, dx) = (new float[dy.Length], new float[x.Length]);
    AvgPool2D.Forward(x, y, batch, g);
    AvgPool2D.Backward(dy, dx, batch, g);
    r.Add($"{name}.x", x, batch, inH, inW, c);
    r.Add($"{name}.dy", dy, batch, outH, outW, c);
    r.Add($"{name}.geometry", [pool, stride, top, left], 4);
    r.Add($"{name}.y", y, batch, outH, outW, c);
    r.Add($"{name}.dx", dx, batch, inH, inW, c);
}

// Keras: same gives ceil(in / stride) with the extra padding at the end; valid floor((in − pool) / stride) + 1.
static (int Out, int Before) Out(int size, int pool, int stride, bool same)
{
    if (!same)
    {
        return ((size - pool) / stride + 1, 0);
    }
    var output = (size + stride - 1) / stride;
    return (output, Math.Max((output - 1) * stride + pool - size, 0) / 2);
}

static void GlobalPoolCase(Records r, string name, int batch, int h, int w, int c)
{
    var pixels = h * w;
    var x = Random(batch * pixels * c, 9);
    var dy = Random(batch * c, 10);
    r.Add($"{name}.x", x, batch, h, w, c);
    r.Add($"{name}.dy", dy, batch, c);
    var (y, dx, argmax) = (new float[dy.Length], new float[x.Length], new int[dy.Length]);
    GlobalPool2D.AverageForward(x, y, batch, pixels, c);
    GlobalPool2D.AverageBackward(dy, dx, batch, pixels, c);
    r.Add($"{name}.avg_y", y, batch, c);
    r.Add($"{name}.avg_dx", dx, batch, h, w, c);
    GlobalPool2D.MaxForward(x, y, argmax, batch, pixels, c);
    GlobalPool2D.MaxBackward(dy, argmax, dx, batch, pixels, c);
    r.Add($"{name}.max_y", y, batch, c);
    r.Add($"{name}.max_dx", dx, batch, h, w, c);
}

static void ActivationCase(Records r, string name, Epilogue act, float alpha)
{
    // Wide enough to reach the tails: |x| up to 12.
    var x = Random(4099, 11, 12f);
    var dy = Random(x.Length, 12);
    var (y, dx) = (new float[x.Length], new float[x.Length]);
    Activations.Forward(x, y, act, alpha);
    Activations.Backward(x, y, dy, dx, act, alpha);
    r.Add($"{name}.x", x, x.Length);
    r.Add($"{name}.dy", dy, x.Length);
    r.Add($"{name}.alpha", [alpha], 1);
    r.Add($"{name}.y", y, x.Length);
    r.Add($"{name}.dx", dx, x.Length);
}

static void RescalingCase(Records r, string name, float scale, float offset)
{
    var x = Random(3 * 8 * 8 * 3, 13, 255f).Select(MathF.Abs).ToArray();
    var dy = Random(x.Length, 14);
    var (y, dx) = (new float[x.Length], new float[x.Length]);
    Rescaling.Forward(x, y, scale, offset);
    Rescaling.Backward(dy, dx, scale);
    r.Add($"{name}.x", x, x.Length);
    r.Add($"{name}.dy", dy, x.Length);
    r.Add($"{name}.scale_offset", [scale, offset], 2);
    r.Add($"{name}.y", y, x.Length);
    r.Add($"{name}.dx", dx, x.Length);
}

internal sealed class Records(BinaryWriter writer)
{
    public void Add(string name, float[] values, params int[] dims)
    {
        var bytes = Encoding.UTF8.GetBytes(name);
        writer.Write(bytes.Length);
        writer.Write(bytes);
        writer.Write(dims.Length);
        foreach (var d in dims)
        {
            writer.Write(d);
        }
        foreach (var v in values)
        {
            writer.Write(v);
        }
    }
}

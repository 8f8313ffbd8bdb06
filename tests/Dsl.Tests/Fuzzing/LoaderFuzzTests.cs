using System.Text;
using Kiln.IO;
using Kiln.Tests.IO;
using Kiln.Tests.Persistence;

namespace Kiln.Tests.Fuzzing;

/// <summary>
/// About 3,700 mutations of valid IDX (raw and gzip), safetensors and CSV files, each loaded by the public API: only
/// InvalidDataException may come out, naming the file, within 2 s and a memory bound per case. Before the loaders
/// were hardened, a safetensors campaign like this one produced InvalidOperationException in about 8 % of cases.
/// A few seconds each; bench/fuzz.sh runs the same campaigns larger.
/// </summary>
public class LoaderFuzzTests
{
    private static readonly Type[] Documented = [typeof(InvalidDataException)];
    private static readonly TimeSpan TimePerCase = TimeSpan.FromSeconds(2);

    // Everything a loader may legitimately allocate is proportional to what the file holds: floats for bytes, and a
    // gzip file's content is at most 1032 times its size, but the seeds' content is small; 1 MiB covers fixed costs.
    private static long Bound(byte[] file, long content) => 1_048_576 + 24 * Math.Max(file.Length, content);

    [Fact]
    public void Idx_images_and_labels_raw()
    {
        var pixels = Enumerable.Range(0, 20 * 28 * 28).Select(i => (byte)(i * 7)).ToArray();
        var images = IdxBytes.Images(20, 28, 28, pixels);
        var labels = IdxBytes.Labels(20, [.. Enumerable.Range(0, 20).Select(i => (byte)(i % 10))]);

        FuzzCampaign.Run("IDX images", images, 600, seed: 1, p => Idx.ReadImages(p), Documented, TimePerCase, f => Bound(f, f.Length));
        FuzzCampaign.Run("IDX labels", labels, 300, seed: 2, p => Idx.ReadLabels(p), Documented, TimePerCase, f => Bound(f, f.Length));
    }

    [Fact]
    public void Idx_gzip_mutated_before_and_after_compression()
    {
        var pixels = Enumerable.Range(0, 20 * 28 * 28).Select(i => (byte)(i % 13 == 0 ? i : 0)).ToArray();
        var images = IdxBytes.Images(20, 28, 28, pixels);

        // Mutating the IDX bytes, then compressing, puts hostile headers (2,700,000 images…) behind valid gzip.
        FuzzCampaign.Run("IDX header in gzip", images, 400, seed: 3, p => Idx.ReadImages(p), Documented, TimePerCase, f => Bound(f, images.Length * 2), IdxBytes.Gzip);
        FuzzCampaign.Run("gzip stream", IdxBytes.Gzip(images), 500, seed: 4, p => Idx.ReadImages(p), Documented, TimePerCase, f => Bound(f, images.Length * 2));
    }

    [Fact]
    public void Safetensors_through_SafeTensors_Load_and_Network_Load()
    {
        var directory = new TempDirectory();
        using (directory)
        using (var net = new SmallNet(seed: 1))
        {
            var path = directory.File("small.safetensors");
            net.Save(path);
            var valid = File.ReadAllBytes(path);

            FuzzCampaign.Run("safetensors", valid, 800, seed: 5, p => SafeTensors.Load(p), Documented, TimePerCase, f => Bound(f, f.Length));
            using var target = new SmallNet(seed: 2);
            FuzzCampaign.Run("Network.Load", valid, 400, seed: 6, p => target.Load(p), Documented, TimePerCase, f => Bound(f, f.Length));
        }
    }

    [Fact]
    public void Iris_csv()
    {
        var csv = new StringBuilder("sepal_length,sepal_width,petal_length,petal_width,species\n");
        foreach (var e in Datasets.Iris().Take(30))
        {
            csv.Append(string.Join(',', e.Features.Select(f => f.ToString(System.Globalization.CultureInfo.InvariantCulture)))).Append(',').Append(Datasets.IrisClassNames[e.Label]).Append('\n');
        }
        var valid = Encoding.UTF8.GetBytes(csv.ToString());

        FuzzCampaign.Run("Iris CSV", valid, 700, seed: 7, p => Datasets.Iris(p), Documented, TimePerCase, f => Bound(f, f.Length * 2));
    }
}

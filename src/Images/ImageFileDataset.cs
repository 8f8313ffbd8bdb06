using System.Runtime.ExceptionServices;

namespace Kiln.Images;

/// <summary>
/// Decodes image files on each pass, a block at a time on all cores, in list order. A failure is rethrown for the
/// first failing file of the block, after the examples before it, so the error is the same on any number of threads.
/// </summary>
internal sealed class ImageFileDataset((string Path, int Label)[] files, ImageShape shape, long maxPixels) : Dataset<Example>
{
    private const int BlockSize = 32;

    public override bool IsInfinite => false;

    public override long? Count => files.Length;

    public override IEnumerator<Example> GetEnumerator()
    {
        var block = new Example[BlockSize];
        var failures = new Exception?[BlockSize];
        for (var start = 0; start < files.Length; start += BlockSize)
        {
            var count = Math.Min(BlockSize, files.Length - start);
            Array.Clear(failures);
            Parallel.For(0, count, i =>
            {
                try
                {
                    var (path, label) = files[start + i];
                    block[i] = new Example(ImageFolder.Load(path, shape, maxPixels), label);
                }
                catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
                {
                    failures[i] = e;
                }
            });
            for (var i = 0; i < count; i++)
            {
                if (failures[i] is { } failure)
                {
                    ExceptionDispatchInfo.Throw(failure);
                }
                yield return block[i];
            }
        }
    }
}

namespace Kiln;

internal sealed class RepeatDataset<T>(Dataset<T> source, int? times) : Dataset<T>
{
    public override bool IsInfinite => times is null ? source.Count != 0 : times > 0 && source.IsInfinite;

    public override long? Count => times switch
    {
        0 => 0,
        _ when source.Count == 0 => 0,
        null => null,
        _ => source.Count * times,
    };

    public override IEnumerator<T> GetEnumerator() => Enumerate(compact: false);

    internal override IEnumerator<T> Enumerate(bool compact)
    {
        for (var pass = 0; times is null || pass < times; pass++)
        {
            var any = false;
            foreach (var item in source.Read(compact))
            {
                any = true;
                yield return item;
            }
            // Repeating an empty pass forever would hang the consumer.
            if (!any)
            {
                yield break;
            }
        }
    }
}

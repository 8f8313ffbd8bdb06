namespace Kiln;

internal sealed class MapDataset<TSource, TResult>(Dataset<TSource> source, Func<TSource, TResult> selector) : Dataset<TResult>
{
    // Datasets.Invert maps an example kept as bytes to the same bytes read through an inverted table, so the
    // workshop's inverted twins cost no floats; any other selector is the user's code and sees float features.
    private static readonly Func<Example, Example> Invert = Datasets.Invert;
    private readonly bool _keepsBytes = selector is Func<Example, Example> f && f.Equals(Invert);

    public override bool IsInfinite => source.IsInfinite;

    public override long? Count => source.Count;

    public override IEnumerator<TResult> GetEnumerator() => Enumerate(compact: false);

    internal override IEnumerator<TResult> Enumerate(bool compact)
    {
        foreach (var item in source.Read(compact && _keepsBytes))
        {
            yield return selector(item);
        }
    }
}

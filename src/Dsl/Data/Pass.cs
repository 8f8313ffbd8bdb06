namespace Kiln;

/// <summary>One pass of <see cref="Dataset{T}.Enumerate"/> in a form foreach takes.</summary>
internal readonly struct Pass<T>(Dataset<T> source, bool compact)
{
    public IEnumerator<T> GetEnumerator() => source.Enumerate(compact);

    /// <summary>
    /// <paramref name="item"/> as a pass that is not <c>compact</c> yields it: an example kept as bytes gets its floats.
    /// Operators that hold elements (Shuffle, Cache, lists) keep them compact and expand on the way out.
    /// </summary>
    public static T Expand(T item) => typeof(T) == typeof(Example) ? (T)(object)((Example)(object)item!).Expanded() : item;
}

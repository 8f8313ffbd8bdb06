using Kiln;
using Mnist;

namespace Examples.Tests;

/// <summary>examples/Mnist --augment: its rotated test set and its training augmentations.</summary>
public class AugmentComparisonTests
{
    [Fact]
    public void The_rotated_test_digits_are_seeded_turned_copies_that_keep_their_ink_and_labels()
    {
        var test = Datasets.Mnist().Test.Take(100);

        var rotated = AugmentComparison.Rotated(test, seed: 2).ToArray();
        var again = AugmentComparison.Rotated(test, seed: 2).ToArray();

        Assert.Equal(test.Select(e => e.Label), rotated.Select(e => e.Label));
        Assert.Equal(again.Select(e => e.Features), rotated.Select(e => e.Features));
        foreach (var (turned, original) in rotated.Zip(test))
        {
            Assert.False(turned.Features.SequenceEqual(original.Features));
            // A turn of at most 30° about the centre keeps an MNIST digit inside the frame: the ink is kept, give or take
            // what bilinear resampling spreads.
            Assert.InRange(turned.Features.Sum() / original.Features.Sum(), 0.9, 1.1);
        }
    }

    [Fact]
    public void The_geometric_training_augmentations_share_one_resampling()
    {
        var geometric = AugmentComparison.Augmentations.OfType<GeometricAugmentation>().ToArray();

        Assert.Equal(3, geometric.Length);
        Assert.Equal(geometric, AugmentComparison.Augmentations[..3]);
        Assert.All(geometric, g => Assert.Equal((FillMode.Constant, Interpolation.Bilinear, 0f), (g.FillMode, g.Interpolation, g.FillValue)));
        Assert.IsType<RandomBrightness>(AugmentComparison.Augmentations[3]);
    }
}

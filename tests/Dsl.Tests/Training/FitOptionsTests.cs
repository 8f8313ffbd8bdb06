namespace Kiln.Tests.Training;

public class FitOptionsTests
{
    private static readonly (Dataset<Example> Train, Dataset<Example> Test) Iris = Data.Iris(1);

    [Fact]
    public void Initial_epoch_numbers_the_epochs_as_keras_does()
    {
        using var net = new IrisNet(seed: 1);
        var output = new StringWriter();
        var history = net.Fit(Iris.Train.Batch(16), 3, options: new FitOptions { Output = output, InitialEpoch = 1 });
        Assert.Equal([2, 3], history.Epochs.Select(e => e.Epoch));
        Assert.StartsWith("Epoch 2/3", output.ToString(), StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => net.Fit(Iris.Train.Batch(16), 3, options: new FitOptions { InitialEpoch = 3 }));
    }

    [Fact]
    public void Validation_split_holds_out_the_last_batches_of_each_pass()
    {
        // 112 examples in batches of 16: 7 batches; 0.3 holds out ⌈2.1⌉ = 3 and trains on 4.
        var batches = Iris.Train.Batch(16);
        using var net = new IrisNet(seed: 1);
        var history = net.Fit(batches, 2, options: new FitOptions { Verbose = false, ValidationSplit = 0.3 });
        Assert.All(history.Epochs, e => Assert.Equal(4, e.Steps));
        Assert.Equal(net.Evaluate(batches.Skip(4)).Loss, history.ValidationLoss[^1]);
        Assert.Equal(48, net.Evaluate(batches.Skip(4)).Count);

        using var same = new IrisNet(seed: 1);
        var direct = same.Fit(batches.Take(4), 2, validation: batches.Skip(4), options: Data.Quiet);
        Assert.Equal(direct.Loss, history.Loss);
        Assert.Equal(same.GetParameters(), net.GetParameters());

        Assert.Throws<ArgumentException>(() => net.Fit(batches.Repeat(), 1, stepsPerEpoch: 3, options: new FitOptions { ValidationSplit = 0.3 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => net.Fit(batches, 1, options: new FitOptions { ValidationSplit = 1.5 }));
    }

    [Fact]
    public void Predict_over_a_dataset_gives_every_row_and_argmax_names_the_classes()
    {
        using var net = new IrisNet(seed: 1);
        net.Fit(Iris.Train.Repeat().Shuffle(1000, 1).Batch(32), 5, stepsPerEpoch: 100, options: Data.Quiet);
        var test = Iris.Test.ToArray();
        var outputs = net.Predict(Iris.Test.Batch(5));
        var one = new float[3];
        Assert.Equal(test.Length * 3, outputs.Length);
        for (var i = 0; i < test.Length; i++)
        {
            net.Predict(test[i].Features, one);
            Assert.Equal(one, outputs[(i * 3)..(i * 3 + 3)]);
        }
        var classes = net.PredictedClasses(outputs);
        Assert.Equal(classes.Select((c, i) => outputs[(i * 3)..(i * 3 + 3)].ToList().IndexOf(outputs[(i * 3)..(i * 3 + 3)].Max())), classes);
        Assert.True(classes.Zip(test).Count(p => p.First == p.Second.Label) >= 34, "the trained net should get most of the test set right");
        string[] names = ["setosa", "versicolor", "virginica"];
        Assert.Equal(classes.Select(c => names[c]), net.PredictedClassNames(outputs, names));
        Assert.Equal("classNames", Assert.Throws<ArgumentException>(() => net.PredictedClassNames(outputs, ["a", "b"])).ParamName);
    }
}

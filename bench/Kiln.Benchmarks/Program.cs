using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/Kiln.Benchmarks -- --filter '*'   (see docs/BENCHMARKS.md)
BenchmarkSwitcher.FromAssembly(typeof(Kiln.Benchmarks.KernelBenchmarks).Assembly).Run(args, new Kiln.Benchmarks.BenchConfig());

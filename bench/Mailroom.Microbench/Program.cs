using BenchmarkDotNet.Running;

// The micro-benchmarks of the protocol layer; bench/micro.sh runs them with a short job and
// writes BenchmarkDotNet's GitHub-markdown report to a folder. Any BenchmarkDotNet argument
// works here (--filter, --job, --exporters, --artifacts, --list flat).
BenchmarkSwitcher.FromAssembly(typeof(Mailroom.Microbench.CommandParserBenchmarks).Assembly).Run(args);

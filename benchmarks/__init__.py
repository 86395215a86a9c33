"""q2c benchmarks: `make bench`. Not tests: figures, written under benchmarks/results."""

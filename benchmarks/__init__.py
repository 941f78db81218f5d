"""Generators, baselines, simulations, classic suites and the benchmark report."""

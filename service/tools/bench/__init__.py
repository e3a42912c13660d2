"""Benchmarks: commands that print measured figures beside a raw baseline measured in the same run."""

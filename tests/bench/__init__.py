"""Benchmarks, run by ./dev.sh bench: figures printed beside a baseline measured in the same run."""

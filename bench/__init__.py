"""Benchmarks (`make bench`, `python -m bench`): eventops beside a baseline on the same machine, same run."""

"""Reproducible performance harness: ``python -m benchmarks [NAME ...]`` or ``make bench``."""

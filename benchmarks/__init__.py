"""``nox -s bench``: ml_core's benchmarks, timing the real loaders, models and trainer."""

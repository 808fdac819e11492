"""Slurm jobs: submit, survive the wall time, stage data, sweep."""

__all__: list[str] = []

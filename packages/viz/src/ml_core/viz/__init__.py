"""Plots and reports for runs and PCAM data."""

__all__: list[str] = []

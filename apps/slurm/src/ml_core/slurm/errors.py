"""Exceptions of ml_core.slurm; the CLI turns each into one line on stderr and exit 2."""

from __future__ import annotations


class SlurmInputError(ValueError):
    """A name, preset, override or sweep file is wrong; the message names it."""


class SubmissionError(RuntimeError):
    """sbatch or scontrol refused or failed; the message carries Slurm's own words."""

"""Slurm jobs for ml_core: submit, survive the wall time, stage data, sweep."""

from ml_core.slurm._cli import main
from ml_core.slurm._job_script import JobSpec, Task, render_job_script
from ml_core.slurm._preflight import TrainArgs
from ml_core.slurm._presets import Preset, get_preset, load_presets
from ml_core.slurm._status import write_aggregate
from ml_core.slurm._sweep_file import GridPoint, SweepSpec, load_sweep
from ml_core.slurm._values import SlurmInputError, SubmissionError

__all__ = [
    "GridPoint",
    "JobSpec",
    "Preset",
    "SlurmInputError",
    "SubmissionError",
    "SweepSpec",
    "Task",
    "TrainArgs",
    "get_preset",
    "load_presets",
    "load_sweep",
    "main",
    "render_job_script",
    "write_aggregate",
]

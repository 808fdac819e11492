"""Slurm jobs for ml_core: submit, survive the wall time, stage data, sweep."""

from ml_core.slurm.aggregate import aggregate_rows, write_aggregate
from ml_core.slurm.errors import SlurmInputError, SubmissionError
from ml_core.slurm.job_script import (
    JobSpec,
    TrainerTask,
    render_job_script,
)
from ml_core.slurm.presets import Preset, get_preset, load_presets
from ml_core.slurm.sweep_spec import SweepSpec, SweepTask, load_sweep
from ml_core.slurm.task_status import read_status, write_status

__all__ = [
    "JobSpec",
    "Preset",
    "SlurmInputError",
    "SubmissionError",
    "SweepSpec",
    "SweepTask",
    "TrainerTask",
    "aggregate_rows",
    "get_preset",
    "load_presets",
    "load_sweep",
    "read_status",
    "render_job_script",
    "write_aggregate",
    "write_status",
]

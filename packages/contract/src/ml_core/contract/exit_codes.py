"""The exit statuses every ml_core command uses, and what the Slurm job script acts on."""

from __future__ import annotations

EXIT_OK = 0
EXIT_INTERNAL_ERROR = 1
EXIT_BAD_INPUT = 2
EXIT_DIVERGED = 3
"""Training diverged (NaN or infinite loss); rerunning repeats it, so never requeued."""
EXIT_INTERRUPTED = 130
EXIT_REQUEUE = 75
"""Checkpointed on a stop signal: please requeue (EX_TEMPFAIL)."""

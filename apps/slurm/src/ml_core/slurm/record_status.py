"""Job-side entry point that writes a task's status file.

    python -m ml_core.slurm.record_status STATUS_FILE --state STATE --run-dir RUN_DIR
                                          [--exit-code N]

Job scripts call it at the start, before a requeue and at the end; it imports no torch.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ml_core.slurm.task_status import STATES, write_status


def exit_code(text: str) -> int | None:
    """An exit status, or None for the empty string (the trainer is still running)."""
    if not text.strip():
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an exit status: {text!r}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ml_core.slurm.record_status",
        description="Record the state of this Slurm task in its status file.",
    )
    parser.add_argument("status_file", type=Path, help="the status JSON to write")
    parser.add_argument("--state", required=True, choices=STATES, help="task state")
    parser.add_argument(
        "--run-dir", required=True, type=Path, help="the task's run directory"
    )
    parser.add_argument(
        "--exit-code",
        type=exit_code,
        default=None,
        help="the trainer's exit status (empty while it runs)",
    )
    args = parser.parse_args(argv)
    write_status(args.status_file, args.state, args.run_dir, args.exit_code)
    return 0


if __name__ == "__main__":
    sys.exit(main())

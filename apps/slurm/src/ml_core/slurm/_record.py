"""What job scripts run to record their task's state (imported by nothing else, so
``python -m`` runs it cleanly; no torch)."""

from __future__ import annotations

import sys
from pathlib import Path

from ml_core.contract import OneLineArgumentParser
from ml_core.slurm._status import WRITTEN_STATES, write_status


def main(argv: list[str] | None = None) -> int:
    """``STATUS_FILE STATE RUN_DIR [EXIT_CODE]`` (no exit code while it runs)."""
    parser = OneLineArgumentParser(prog="python -m ml_core.slurm._record")
    parser.add_argument("status_file", type=Path)
    parser.add_argument("state", choices=WRITTEN_STATES)
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("exit_code", type=int, nargs="?")
    args = parser.parse_args(argv)
    write_status(args.status_file, args.state, args.run_dir, args.exit_code)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The torch-free contract between ml_core's members.

Run-directory file names, metric columns, exit codes, atomic writes, the config file
format (YAML, ``--set`` overrides, typed section reading) and the one-line CLI error
style, defined once; training writes what viz and slurm read through these names.
"""

from ml_core.contract.atomic import (
    atomic_output,
    atomic_write,
    create_text,
    write_bytes_atomic,
    write_json_atomic,
    write_text_atomic,
)
from ml_core.contract.cli import (
    DEVICE_CHOICES,
    OneLineArgumentParser,
    integer_at_least,
    quoted,
    report_error,
)
from ml_core.contract.config_files import (
    ConfigError,
    apply_overrides,
    dotted_keys,
    load_config,
    read_yaml_file,
)
from ml_core.contract.config_reader import SectionReader
from ml_core.contract.exit_codes import (
    EXIT_BAD_INPUT,
    EXIT_DIVERGED,
    EXIT_INTERNAL_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_REQUEUE,
)
from ml_core.contract.metric_columns import (
    METRIC_COLUMNS,
    NUMERIC_METRICS,
    TEXT_COLUMNS,
    TIMING_COLUMNS,
    VALIDATION_COLUMNS,
)
from ml_core.contract.run_files import (
    TEST_METRICS_FILE,
    TEST_PREDICTIONS_FILE,
    RunPaths,
)

__all__ = [
    "DEVICE_CHOICES",
    "EXIT_BAD_INPUT",
    "EXIT_DIVERGED",
    "EXIT_INTERNAL_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_REQUEUE",
    "METRIC_COLUMNS",
    "NUMERIC_METRICS",
    "TEST_METRICS_FILE",
    "TEST_PREDICTIONS_FILE",
    "TEXT_COLUMNS",
    "TIMING_COLUMNS",
    "VALIDATION_COLUMNS",
    "ConfigError",
    "OneLineArgumentParser",
    "RunPaths",
    "SectionReader",
    "apply_overrides",
    "atomic_output",
    "atomic_write",
    "create_text",
    "dotted_keys",
    "integer_at_least",
    "load_config",
    "quoted",
    "read_yaml_file",
    "report_error",
    "write_bytes_atomic",
    "write_json_atomic",
    "write_text_atomic",
]

"""Dry-run job scripts: the lines Snellius needs, valid bash, and shell safety.

These call the real ``ml-slurm`` entry point in-process (``main(argv)``), which runs
the real preflight (sbatch, uv, ml-train's config check) but submits nothing.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from ml_core.contract import EXIT_REQUEUE
from ml_core.slurm.cli import main

# A dry run passes preflight only where sbatch and uv exist (CI installs both).
DRY_RUN_OK = 0 if shutil.which("sbatch") and shutil.which("uv") else 2
SNELLIUS = {"gpu_a100": 18, "gpu_h100": 16, "gpu_course": 9}
REQUIRED_LINES = (
    "#SBATCH --requeue",
    "#SBATCH --open-mode=append",
    "#SBATCH --gpus=1",
    "#SBATCH --nodes=1",
    "module load 2025 ",
    "module load Python/3.13.1-GCCcore-14.2.0 ",
    "trap 'forward USR1' USR1",
    'wait "$trainer_pid"',
    'scontrol requeue "$requeue_id"',
    'requeue_id="${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}"',
    "(( restarts >= max_requeues ))",
    '"$trainer" "${trainer_args[@]}" --auto-resume &',
)


def dry_run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["submit", *args, "--dry-run"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def bash_syntax_ok(script: str, tmp_path: Path) -> bool:
    path = tmp_path / "job.sbatch"
    path.write_text(script)
    return subprocess.run(["bash", "-n", str(path)], check=False).returncode == 0


def trainer_args_in(script: str, cwd: Path) -> list[str]:
    """Run the script's trainer-argument block in bash and return the array it builds."""
    block = script.split("# >>> trainer arguments", 1)[1].split("# <<<", 1)[0]
    shown = subprocess.run(
        ["bash", "-c", block + '\nprintf "%s\\0" "${trainer_args[@]}"'],
        cwd=cwd,
        capture_output=True,
        check=True,
    )
    return shown.stdout.decode().split("\0")[:-1]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ML_CORE_SLURM_PRESETS", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path


@pytest.mark.slow
@pytest.mark.parametrize("preset", sorted(SNELLIUS))
def test_snellius_dry_run_has_required_lines(
    preset: str,
    tiny_config: Path,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, script, err = dry_run(
        capsys, "--config", str(tiny_config), "--preset", preset
    )
    assert code == DRY_RUN_OK, err
    assert "preflight: ok   config: valid" in err
    assert "preflight: ok   data:" in err
    assert f"#SBATCH --partition={preset}" in script
    assert f"#SBATCH --cpus-per-task={SNELLIUS[preset]}" in script
    assert "#SBATCH --signal=B:USR1@300" in script
    assert "#SBATCH --output=" in script
    assert script.count("%x_%j.out") == 1
    for line in REQUIRED_LINES:
        assert line in script, line
    assert f"requeue_exit_code={EXIT_REQUEUE}" in script
    assert "--constraint" not in script
    assert bash_syntax_ok(script, workdir)
    assert not (workdir / "results").exists(), "a dry run must write nothing"


def test_local_preset_has_no_partition_gpu_or_modules(
    tiny_config: Path, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, script, _ = dry_run(capsys, "--config", str(tiny_config), "--preset", "local")
    assert code == DRY_RUN_OK
    assert "--partition" not in script
    assert "--gpus" not in script
    assert "module load" not in script
    assert "#SBATCH --cpus-per-task=1" in script
    assert bash_syntax_ok(script, workdir)


def test_flags_override_the_preset_and_staging_adds_scratch(
    tiny_config: Path,
    tiny_pcam: Path,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, script, err = dry_run(
        capsys,
        "--config",
        str(tiny_config),
        "--preset",
        "gpu_a100",
        "--time",
        "1-00:00:00",
        "--account",
        "proj42",
        "--signal-lead",
        "120",
        "--stage-data",
    )
    assert code == DRY_RUN_OK, err
    assert "#SBATCH --time=1-00:00:00" in script
    assert "#SBATCH --account=proj42" in script
    assert "#SBATCH --signal=B:USR1@120" in script
    assert "#SBATCH --constraint=scratch-node" in script
    assert f"stage_source={tiny_pcam}\n" in script
    assert bash_syntax_ok(script, workdir)


@pytest.mark.parametrize(
    "name",
    ["a;touch pwned", "$(touch pwned)", "two\nlines", "it's", "..", "a b"],
)
def test_unsafe_experiment_names_are_refused(
    name: str,
    tiny_config: Path,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, script, err = dry_run(
        capsys, "--config", str(tiny_config), "--set", f"experiment_name={name}"
    )
    assert code == 2
    assert "experiment_name" in err
    assert script == ""
    assert not (workdir / "pwned").exists()


@pytest.mark.parametrize(
    "flag",
    [
        ["--partition", "gpu;reboot"],
        ["--account", "$(id)"],
        ["--constraint", "a\n#SBATCH --exclusive"],
        ["--mem", "16G --exclusive"],
    ],
)
@pytest.mark.usefixtures("workdir")
def test_unsafe_resource_values_are_refused(
    flag: list[str],
    tiny_config: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, script, err = dry_run(capsys, "--config", str(tiny_config), *flag)
    assert code == 2
    assert err.startswith("ml-slurm: error:")
    assert len(err.strip().splitlines()) == 1
    assert script == ""


def test_quotes_and_substitutions_reach_the_trainer_unchanged(
    tiny_pcam: Path, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nasty_dir = workdir / "it's $(touch pwned) `touch pwned2`"
    nasty_dir.mkdir()
    config = nasty_dir / 'cfg "1".yaml'
    config.write_text(f"experiment_name: quoted\ndata:\n  data_path: {tiny_pcam}\n")
    save_dir_override = f'training.save_dir="{workdir}/results"'
    code, script, err = dry_run(
        capsys,
        "--config",
        str(config),
        "--set",
        save_dir_override,
        "--set",
        "model.hidden_units=[8, 4]",
    )
    assert code == DRY_RUN_OK, err
    assert bash_syntax_ok(script, workdir)
    assert trainer_args_in(script, workdir) == [
        "--config",
        str(config),
        "--set",
        save_dir_override,
        "--set",
        "model.hidden_units=[8, 4]",
    ]
    assert not (workdir / "pwned").exists()
    assert not (workdir / "pwned2").exists()


def test_resume_flag_is_refused(
    tiny_config: Path, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = dry_run(
        capsys, "--config", str(tiny_config), "--resume", str(workdir)
    )
    assert code == 2
    assert "--resume" in err


def test_sweep_dry_run_renders_one_array_case_per_task(
    tiny_config: Path, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sweep_file = workdir / "sweep.yaml"
    sweep_file.write_text(
        f"name: grid\nconfig: {tiny_config}\nparallel: 2\n"
        "grid:\n  training.learning_rate: [0.001, 0.01]\n  seed: [0, 1, 2]\n"
    )
    code = main(["sweep", str(sweep_file), "--preset", "gpu_h100", "--dry-run"])
    captured = capsys.readouterr()
    assert code == DRY_RUN_OK, captured.err
    script = captured.out
    assert "#SBATCH --array=0-5%2" in script
    assert "%x_%A_%a.out" in script
    assert 'case "${SLURM_ARRAY_TASK_ID:-}" in' in script
    for index in range(6):
        assert f"    {index})\n" in script
    assert "--set training.learning_rate=0.01 --set seed=2" in script
    assert bash_syntax_ok(script, workdir)
    assert not (tiny_config.parent / "results").exists(), "a dry run must write nothing"

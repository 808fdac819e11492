"""Job scripts: the lines Snellius needs, valid bash, shell safety, and dry runs.

Scripts are rendered from :class:`ml_core.slurm.JobSpec` directly where only the preset
matters; the dry runs call the real ``ml-slurm`` entry point in-process
(``main(argv)``), which runs the real preflight (sbatch, uv, ``ml-train --check`` for
every run, ``ml-data check``) but submits nothing. Each of those costs one ml-train
start, so they are kept to what only a dry run shows.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from pathlib import Path

import pytest

from ml_core.contract import EXIT_DIVERGED, EXIT_REQUEUE
from ml_core.slurm import (
    JobSpec,
    SlurmInputError,
    Task,
    TrainArgs,
    get_preset,
    main,
    render_job_script,
)

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
    f"requeue_exit_code={EXIT_REQUEUE}\n",
    f"diverged_exit_code={EXIT_DIVERGED}\n",
)
UNSAFE_NAMES = ["a;touch pwned", "$(touch pwned)", "two\nlines", "it's", "..", "a b"]


@pytest.fixture(autouse=True)
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in ``tmp_path``, without the developer's own presets file."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ML_CORE_SLURM_PRESETS", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path


def job_spec(tmp_path: Path, preset: str, **changes: object) -> JobSpec:
    task = Task(0, TrainArgs(tmp_path / "c.yaml"), tmp_path / "run", tmp_path / "s")
    spec = JobSpec(
        job_name="run",
        log_pattern=tmp_path / "%x_%j.out",
        preset=get_preset(preset),
        tasks=(task,),
        workdir=tmp_path,
        git_commit="test",
    )
    return dataclasses.replace(spec, **changes)


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


@pytest.mark.parametrize("preset", sorted(SNELLIUS))
def test_snellius_scripts_have_required_lines(preset: str, tmp_path: Path) -> None:
    script = render_job_script(job_spec(tmp_path, preset))
    assert f"#SBATCH --partition={preset}" in script
    assert f"#SBATCH --cpus-per-task={SNELLIUS[preset]}" in script
    assert "#SBATCH --signal=B:USR1@300" in script
    assert f"#SBATCH --output={tmp_path}/%x_%j.out\n" in script
    assert script.count("%x_%j.out") == 1
    for line in REQUIRED_LINES:
        assert line in script, line
    assert "--constraint" not in script
    assert "--array" not in script
    assert bash_syntax_ok(script, tmp_path)


def test_local_preset_has_no_partition_gpu_or_modules(tmp_path: Path) -> None:
    script = render_job_script(job_spec(tmp_path, "local"))
    assert "--partition" not in script
    assert "--gpus" not in script
    assert "module load" not in script
    assert "#SBATCH --cpus-per-task=1" in script
    assert bash_syntax_ok(script, tmp_path)


@pytest.mark.parametrize(
    ("indices", "parallel", "line"),
    [
        ((0, 1, 2), 2, "0-2%2"),
        ((0, 1, 2), None, "0-2"),
        ((1, 4), 3, "1,4%3"),
        ((5,), None, "5"),
    ],
)
def test_array_line_for_ranges_and_selections(
    tmp_path: Path, indices: tuple[int, ...], parallel: int | None, line: str
) -> None:
    spec = job_spec(tmp_path, "local", array=indices, parallel=parallel)
    assert f"#SBATCH --array={line}\n" in render_job_script(spec)


@pytest.mark.parametrize("name", [*UNSAFE_NAMES, "..."])
def test_unsafe_job_names_are_refused_by_the_renderer(
    tmp_path: Path, name: str
) -> None:
    with pytest.raises(SlurmInputError, match="job name"):
        render_job_script(job_spec(tmp_path, "local", job_name=name))


@pytest.mark.slow
def test_dry_run_checks_the_run_and_passes_quotes_unchanged(
    tiny_pcam: Path, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nasty_dir = workdir / "it's $(touch pwned) `touch pwned2`"
    nasty_dir.mkdir()
    config = nasty_dir / 'cfg "1".yaml'
    config.write_text(f"experiment_name: quoted\ndata:\n  data_path: {tiny_pcam}\n")
    save_dir_override = f'training.save_dir="{workdir}/results"'
    trainer_args = [
        "--config",
        str(config),
        "--set",
        save_dir_override,
        "--set",
        "model.hidden_units=[8, 4]",
    ]
    code, script, err = dry_run(capsys, *trainer_args)
    assert code == DRY_RUN_OK, err
    assert "preflight: ok   config: valid" in err
    assert f"preflight: ok   data: {tiny_pcam}: ok" in err
    assert "#SBATCH --partition=gpu_a100" in script, "gpu_a100 is the default preset"
    assert f"#SBATCH --output={workdir}/results/quoted.slurm/%x_%j.out\n" in script
    assert bash_syntax_ok(script, workdir)
    assert trainer_args_in(script, workdir) == trainer_args
    assert not (workdir / "pwned").exists()
    assert not (workdir / "pwned2").exists()
    assert not (workdir / "results").exists(), "a dry run must write nothing"


@pytest.mark.slow
def test_flags_override_the_preset_and_staging_adds_scratch(
    tiny_config: Path, tiny_pcam: Path, capsys: pytest.CaptureFixture[str]
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


@pytest.mark.slow
@pytest.mark.parametrize(
    # ml-train refuses the first; the second it accepts, and ml-slurm refuses.
    ("name", "named"),
    [("$(touch pwned)", "experiment_name"), ('"..."', "job name '...'")],
)
def test_unsafe_experiment_names_are_refused(
    name: str,
    named: str,
    tiny_config: Path,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, script, err = dry_run(
        capsys, "--config", str(tiny_config), "--set", f"experiment_name={name}"
    )
    assert code == 2
    assert named in err
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
def test_unsafe_resource_values_are_refused(
    flag: list[str], tiny_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, script, err = dry_run(capsys, "--config", str(tiny_config), *flag)
    assert code == 2
    assert err.startswith("ml-slurm: error:")
    assert len(err.strip().splitlines()) == 1
    assert script == ""


@pytest.mark.parametrize("flag", [["--resume", "."], ["--check"]])
def test_flags_a_job_decides_itself_are_refused(
    flag: list[str], tiny_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = dry_run(capsys, "--config", str(tiny_config), *flag)
    assert code == 2
    assert err.startswith(f"ml-slurm: error: {flag[0]}:")
    assert len(err.strip().splitlines()) == 1


@pytest.mark.slow
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
    assert f"#SBATCH --output={workdir}/results/grid/logs/%x_%A_%a.out\n" in script
    assert 'case "${SLURM_ARRAY_TASK_ID:-}" in' in script
    for index in range(6):
        assert f"    {index})\n" in script
        assert (
            f"status_file={workdir}/results/grid/status/task_00{index}.json" in script
        )
    assert "--set training.learning_rate=0.01 --set seed=2" in script
    assert "--set experiment_name=task_005" in script
    assert bash_syntax_ok(script, workdir)
    assert not (workdir / "results").exists(), "a dry run must write nothing"

"""Presets: the built-in file, user extensions, and refusal of unsafe values."""

from __future__ import annotations

from pathlib import Path

import pytest

from ml_core.slurm import SlurmInputError, get_preset, load_presets

SNELLIUS_MODULES = ("2025", "Python/3.13.1-GCCcore-14.2.0")


@pytest.fixture(autouse=True)
def no_user_presets(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keep the developer's own presets file out of these tests."""
    monkeypatch.delenv("ML_CORE_SLURM_PRESETS", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def test_builtin_presets_match_snellius() -> None:
    presets = load_presets()
    a100, h100, course = presets["gpu_a100"], presets["gpu_h100"], presets["gpu_course"]
    assert (a100.partition, a100.gpus, a100.cpus_per_task) == ("gpu_a100", 1, 18)
    assert (h100.partition, h100.gpus, h100.cpus_per_task) == ("gpu_h100", 1, 16)
    assert (course.partition, course.gpus) == ("gpu_course", 1)
    for preset in (a100, h100, course):
        assert preset.modules == SNELLIUS_MODULES
        assert preset.staging_constraint == "scratch-node"


def test_local_preset_is_small_and_plain() -> None:
    local = get_preset("local")
    assert local.partition is None
    assert local.gpus == 0
    assert local.modules == ()
    assert local.cpus_per_task == 1


def test_user_file_adds_and_changes_presets(tmp_path: Path) -> None:
    user_file = tmp_path / "mine.toml"
    user_file.write_text(
        '[presets.gpu_a100]\naccount = "proj123"\n\n'
        '[presets.long_a100]\nextends = "gpu_a100"\ntime = "2-00:00:00"\n'
    )
    presets = load_presets(user_file)
    assert presets["gpu_a100"].account == "proj123"
    assert presets["gpu_a100"].cpus_per_task == 18
    assert presets["long_a100"].time == "2-00:00:00"
    assert presets["long_a100"].account == "proj123"
    assert presets["long_a100"].partition == "gpu_a100"


def test_user_file_from_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user_file = tmp_path / "env.toml"
    user_file.write_text('[presets.tiny]\ncpus_per_task = 2\nmem = "500M"\n')
    monkeypatch.setenv("ML_CORE_SLURM_PRESETS", str(user_file))
    assert get_preset("tiny").mem == "500M"


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ('partition = "gpu;rm -rf ~"', "partition"),
        ('modules = ["2025", "$(reboot)"]', "module"),
        ('time = "forever"', "time"),
        ('mem = "lots"', "mem"),
        ("gpus = -1", "gpus"),
        ('cpus_per_task = "18"', "cpus_per_task"),
        ("colour = 3", "unknown keys"),
        ('extends = "nowhere"', "extends"),
        ("partition = " + "[" * 5000 + "]" * 5000, "nested too deeply"),
        ("partition = ", "cannot read presets"),
    ],
)
def test_bad_user_presets_are_refused(tmp_path: Path, table: str, problem: str) -> None:
    user_file = tmp_path / "bad.toml"
    user_file.write_text(f"[presets.bad]\n{table}\n")
    with pytest.raises(SlurmInputError, match=problem):
        load_presets(user_file)


def test_unknown_preset_lists_known_ones() -> None:
    with pytest.raises(SlurmInputError, match="gpu_a100"):
        get_preset("gpu_v100")


def test_overrides_are_validated() -> None:
    local = get_preset("local")
    assert local.with_overrides(time="00:10:00", gpus=None).time == "00:10:00"
    with pytest.raises(SlurmInputError, match="time"):
        local.with_overrides(time="10:00\n#SBATCH --exclusive")

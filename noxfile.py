"""Developer sessions: lint and tests run in CI; bench and submit act on demand.

Every session installs from ``uv.lock`` (``uv sync --locked``) into its own virtualenv;
none re-resolves dependencies.
"""

from __future__ import annotations

import nox

nox.needs_version = ">=2024.10.9"
nox.options.default_venv_backend = "uv"
nox.options.sessions = ["lint", "tests"]


def _sync(session: nox.Session, *groups: str) -> None:
    """Install the locked workspace (every member) plus the named dependency groups."""
    # Bytecode is compiled once here: where PYTHONDONTWRITEBYTECODE is set (CI), every
    # subprocess would otherwise recompile torch's sources, seconds per process.
    args = ["uv", "sync", "--locked", "--no-default-groups", "--compile-bytecode"]
    for group in groups:
        args += ["--group", group]
    session.run_install(
        *args, env={"UV_PROJECT_ENVIRONMENT": session.virtualenv.location}
    )


@nox.session
def lint(session: nox.Session) -> None:
    """Ruff lint and format check, and a lock file that matches every pyproject."""
    _sync(session, "lint")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("uv", "lock", "--check", external=True)


@nox.session
def tests(session: nox.Session) -> None:
    """The full pytest suite (slow, Slurm and process tests included); args go to pytest.

    Two workers (pytest-xdist): most tests wait on child processes starting up, so two
    run in about 60 % of one's time on two cores. ``loadfile`` keeps a module's tests on
    one worker, so its module-scoped runs (torchrun, Slurm campaigns) happen once.
    (``loadgroup`` groups nothing under pytest 9.2: pytest-xdist issue #1386.)
    """
    _sync(session, "test")
    session.run("pytest", "-n", "2", "--dist", "loadfile", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Loaders, models and trainer timed (args: python -m benchmarks.bench --help)."""
    _sync(session, "test")  # the naive course loader needs torchvision's ToTensor
    session.run("python", "-m", "benchmarks.bench", *session.posargs)


# Reused, not recreated: running jobs execute this environment's ml-train.
@nox.session(default=False, reuse_venv=True)
def submit(session: nox.Session) -> None:
    """Submit a training run to Slurm; args go to ml-slurm submit (e.g. --preset gpu_a100)."""
    _sync(session)
    session.run("ml-slurm", "submit", *session.posargs)

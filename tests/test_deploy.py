"""deploy/: the systemd unit, the Dockerfile and compose.yaml, checked as far as this machine
can (it runs no Docker engine and reaches no registry: the image itself is not built here)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
INSTALLED_NEWSBOT = "/opt/newsbot/bin/newsbot"


def test_the_systemd_unit_verifies_and_stays_hardened(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed: the unit cannot be verified here")
    unit = (DEPLOY / "newsbot.service").read_text(encoding="utf-8")
    assert unit.count(f"\nExecStart={INSTALLED_NEWSBOT} run\n") == 1
    # verify checks that the program exists: this checkout's newsbot stands in for it.
    newsbot = Path(sys.executable).parent / "newsbot"
    assert newsbot.is_file()
    copy = tmp_path / "newsbot.service"
    copy.write_text(unit.replace(INSTALLED_NEWSBOT, str(newsbot)), encoding="utf-8")

    verified = subprocess.run(
        [analyze, "verify", "--man=no", str(copy)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # An unknown or misspelt setting is only a warning: any output fails the test.
    assert (verified.returncode, verified.stdout, verified.stderr) == (0, "", "")

    security = subprocess.run(
        [analyze, "security", "--offline=true", "--no-pager", str(copy)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    exposure = re.search(r"Overall exposure level for newsbot\.service: ([\d.]+)", security.stdout)
    assert exposure is not None, security.stdout + security.stderr
    # systemd's scale: 0 (locked down) to 10 (unprotected); this unit scores 1.5.
    assert float(exposure.group(1)) <= 2.0


def _instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", dockerfile.read_text(encoding="utf-8"))
    return [
        (keyword.upper(), arguments.strip())
        for keyword, arguments in re.findall(r"^(\w+)\s+(.*)$", joined, flags=re.MULTILINE)
    ]


def test_the_dockerfile_runs_readmes_installation_as_a_user_with_the_database_on_a_volume(
    tmp_path: Path,
) -> None:
    instructions = _instructions(DEPLOY / "Dockerfile")
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    [base] = [arguments for keyword, arguments in instructions if keyword == "FROM"]
    assert base == "python:3.11-slim"
    assert pyproject["project"]["requires-python"] == ">=3.11"
    commands = [
        command.strip()
        for keyword, arguments in instructions
        if keyword == "RUN"
        for command in arguments.split("&&")
    ]
    assert "pip install ." in commands
    copied = {
        source: destination
        for keyword, arguments in instructions
        if keyword == "COPY"
        for *sources, destination in [arguments.split()]
        for source in sources
    }
    settings = dict(
        arguments.split("=", 1) for keyword, arguments in instructions if keyword == "ENV"
    )
    assert settings["NEWSBOT_DATABASE"] == "/data/newsbot.db"
    assert ("VOLUME", "/data") in instructions
    [user] = [arguments for keyword, arguments in instructions if keyword == "USER"]
    assert user not in ("root", "0")
    assert ("STOPSIGNAL", "SIGTERM") in instructions
    [command] = [json.loads(arguments) for keyword, arguments in instructions if keyword == "CMD"]
    assert command == ["newsbot", "run"]
    assert "newsbot" in pyproject["project"]["scripts"]

    # What the build context holds (deploy/Dockerfile.dockerignore lets in only what is named).
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
    assert "*" in ignore
    assert {f"!{source}" for source in copied} <= set(ignore)

    # The copied files alone make the whole package: built as `pip install .` builds it.
    context = tmp_path / "context"
    for source, destination in copied.items():
        target = context / (destination if destination != "./" else source)
        if (ROOT / source).is_dir():
            shutil.copytree(
                ROOT / source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
            )
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / source, target)
    built, metadata = tmp_path / "built", tmp_path / "metadata"
    metadata.mkdir()
    setup = [sys.executable, "-c", "import setuptools; setuptools.setup()", "-q"]
    build = subprocess.run(
        [*setup, "egg_info", "--egg-base", str(metadata), "build", "--build-lib", str(built)],
        cwd=context,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert build.returncode == 0, build.stderr
    assert "cannot be found" not in build.stderr  # a file pyproject.toml names, README.md
    [info] = metadata.glob("*.egg-info")
    assert "newsbot = bot.cli:main" in (info / "entry_points.txt").read_text(encoding="utf-8")
    assert "An Indonesian-first news bot" in (info / "PKG-INFO").read_text(encoding="utf-8")
    # Every module of the three packages, and the data files pyproject.toml declares.
    expected = {
        path.relative_to(ROOT)
        for package in ("bot", "handlers", "storage")
        for path in (ROOT / package).rglob("*.py")
    }
    for package, patterns in pyproject["tool"]["setuptools"]["package-data"].items():
        for pattern in patterns:
            expected |= {path.relative_to(ROOT) for path in (ROOT / package).glob(pattern)}
    assert Path("bot/sample_news/berita.jsonl") in expected
    assert {path.relative_to(built) for path in built.rglob("*") if path.is_file()} == expected


def test_compose_builds_the_image_and_keeps_the_database_on_a_named_volume() -> None:
    # No YAML parser is a dependency of newsbot: the lines that matter are checked as written.
    compose = (DEPLOY / "compose.yaml").read_text(encoding="utf-8")
    for line in (
        "services:\n  newsbot:\n",
        "    build:\n      context: ..\n      dockerfile: deploy/Dockerfile\n",
        "    env_file: newsbot.env\n",
        "    volumes:\n      - newsbot-data:/data\n",
        "    restart: unless-stopped\n",
        "\nvolumes:\n  newsbot-data:\n",
    ):
        assert line in compose, line
    assert "\t" not in compose
    # The settings file it reads holds tokens: git never takes it.
    assert "deploy/newsbot.env" in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()

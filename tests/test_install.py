"""A stock install: a fresh venv with the pip Python ships (not upgraded), `pip install .`.

`make` upgrades pip before it installs, which once hid a dependency that only a newer pip
resolved (lxml's html-clean extra, asked for by jusText): with Python 3.11's own pip the first
page ingested failed. This test installs the project as a user who never runs `make` would.

It is the one test that reaches beyond 127.0.0.1: its pip asks the package registry (and the
indexes pip is configured with) for newsbot's dependencies, as a user's does. The ingest that
follows reads from 127.0.0.1 only.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "ingest"
# What `pip install .` reads: the package metadata and the three packages.
PROJECT_FILES = ("pyproject.toml", "README.md", "bot", "handlers", "storage")


@pytest.fixture
def fixture_server() -> Iterator[str]:
    """The ingest fixtures over HTTP on 127.0.0.1, as a publisher's site would serve them."""

    class QuietHandler(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(FIXTURES))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_stock_pip_installs_the_project_and_it_ingests_a_page_and_a_feed(
    tmp_path: Path, fixture_server: str
) -> None:
    source = tmp_path / "source"
    source.mkdir()
    for name in PROJECT_FILES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, source / name)
    venv = tmp_path / "venv"
    # The interpreter this suite runs on makes the venv: its pip is the one ensurepip bundles.
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    pip_version = subprocess.run(
        [python, "-m", "pip", "--version"], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    install = subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--no-compile", str(source)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert install.returncode == 0, f"{pip_version}\n{install.stderr}"

    newsbot = venv / "bin" / "newsbot"
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "NEWSBOT_DATABASE": str(tmp_path / "newsbot.db"),
        # The fixtures are served on 127.0.0.1, which newsbot refuses unless told otherwise.
        "NEWSBOT_ALLOW_PRIVATE_SOURCES": "true",
    }
    ingest = subprocess.run(
        [newsbot, "ingest", f"{fixture_server}/article.html", f"{fixture_server}/feed.xml"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=False,
        timeout=120,
    )
    assert ingest.returncode == 0, f"{pip_version}\n{ingest.stdout}\n{ingest.stderr}"
    assert "Traceback" not in ingest.stderr
    found = subprocess.run(
        [newsbot, "chat"],
        input="/latest banjir rob\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=True,
        timeout=60,
    )
    # The page's own headline (og:title), read by trafilatura with lxml's cleaner.
    assert "Banjir Rob Rendam Permukiman di Pesisir Utara" in found.stdout, found.stdout

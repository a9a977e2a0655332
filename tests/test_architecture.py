"""The dependency rules of DESIGN §3, checked on the source and on a real import."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLATFORM_SDKS = {"telegram", "discord"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _core_files() -> list[Path]:
    files = [*ROOT.joinpath("handlers").rglob("*.py"), *ROOT.joinpath("storage").rglob("*.py")]
    files += [p for p in ROOT.joinpath("bot").rglob("*.py") if "adapters" not in p.parts]
    return files


def test_core_handlers_and_storage_never_import_platform_sdks() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            name for name in _imports(path) if name.split(".")[0] in PLATFORM_SDKS
        )
        for path in _core_files()
    }
    assert {path: names for path, names in offenders.items() if names} == {}
    # The check looks at real files: make sure it found the packages it guards.
    assert any(path.name == "news.py" for path in _core_files())


def test_storage_never_imports_adapters_or_handlers() -> None:
    for path in ROOT.joinpath("storage").rglob("*.py"):
        for name in _imports(path):
            assert not name.startswith(("bot.adapters", "handlers")), (path, name)


def test_importing_the_core_loads_no_platform_sdk() -> None:
    code = (
        "import sys, bot.app, bot.cli, handlers, storage.sqlite\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('telegram', 'discord'))\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert result.stdout.strip() == ""


# Loaded only by the commands that need them: a prompt on a terminal, article pages, a platform.
ON_DEMAND = ("prompt_toolkit", "trafilatura", "bs4", "telegram", "discord")


def _modules_loaded_by(argv: list[str], tmp_path: Path, stdin: str = "") -> set[str]:
    """The top-level packages `newsbot ARGV` had loaded when it ended."""
    code = (
        "import sys\n"
        "from bot.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        "print(','.join(sorted({m.split('.')[0] for m in sys.modules})), file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "NEWSBOT_DATABASE": str(tmp_path / "newsbot.db")},
    )
    return set(result.stderr.strip().splitlines()[-1].split(","))


def test_newsbot_version_loads_only_its_parser(tmp_path: Path) -> None:
    loaded = _modules_loaded_by(["--version"], tmp_path)
    assert "bot" in loaded  # the check sees what was loaded
    assert loaded.isdisjoint({*ON_DEMAND, "pydantic", "pydantic_settings", "aiosqlite", "httpx"})


def test_a_piped_chat_loads_no_prompt_page_parser_or_platform_sdk(tmp_path: Path) -> None:
    loaded = _modules_loaded_by(["chat"], tmp_path, stdin="/help\n")
    assert {"aiosqlite", "pydantic_settings"} <= loaded  # it did open the database
    assert loaded.isdisjoint(ON_DEMAND)

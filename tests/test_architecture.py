"""The dependency rules of DESIGN §3, checked on the source and on a real import."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import deque
from collections.abc import Collection, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLATFORM_SDKS = {"telegram", "discord"}
PROJECT_PACKAGES = ("bot", "handlers", "storage")

# The tiers of the project, lowest first. A file may import files of its own tier and of the
# tiers below it, never of a tier above. An entry is a file, or a folder ending in "/" that
# holds every file under it; a file belongs to the tier of its longest entry.
TIERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # What every part speaks: the core types and the storage's records (Platform, ChatRef, Lane),
    # commands and replies (Command, Reply, UserError, UsageError), the settings, texts,
    # sections, rendering, log fields, stop signals.
    (
        "vocabulary",
        (
            "storage/models.py",
            "storage/search_text.py",
            "bot/__init__.py",
            "bot/chat.py",
            "bot/i18n.py",
            "bot/logging_config.py",
            "bot/message_text.py",
            "bot/render.py",
            "bot/sections.py",
            "bot/settings.py",
            "bot/stop_signals.py",
        ),
    ),
    ("storage", ("storage/",)),
    # What the core asks of a chat platform, and the send budget every send takes a slot of.
    ("platform", ("bot/platform/",)),
    ("ingest and delivery", ("bot/ingest/", "bot/delivery/")),
    # The newsroom's services: publishing, the desk, the feed registry, the source desk,
    # admin notices, suggestions.
    ("services", ("bot/newsroom/",)),
    # Command specs, what handlers receive (Deps), the dispatcher.
    ("commands", ("bot/router.py",)),
    ("adapters and handlers", ("bot/adapters/", "handlers/")),
    # What opens every resource and runs it: the app, the command line, reading the settings.
    (
        "wiring",
        (
            "bot/app.py",
            "bot/cli.py",
            "bot/cli_verbs.py",
            "bot/settings_loader.py",
            "bot/__main__.py",
        ),
    ),
)


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


def _project_files() -> dict[str, Path]:
    """Every module of the project by its dotted name (a package by its own: `bot.platform`)."""
    files = {}
    for package in PROJECT_PACKAGES:
        for path in ROOT.joinpath(package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            files[".".join(parts)] = path
    return files


def _project_imports(module: str, path: Path, modules: Collection[str]) -> set[str]:
    """The project's modules that `module` imports anywhere in its source: at the top, inside a
    function, under TYPE_CHECKING alike. `from package import name` imports the module
    `package.name` where there is one, else `package`; relative imports are resolved."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    imported = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            source = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                source = f"{base}.{source}" if source else base
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                imported.add(submodule if submodule in modules else source)
    return {name for name in imported if name in modules and name != module}


def _import_graph() -> dict[str, set[str]]:
    """Module -> the project's modules it imports."""
    files = _project_files()
    return {module: _project_imports(module, path, files) for module, path in files.items()}


def _circles(graph: Mapping[str, Collection[str]]) -> list[list[str]]:
    """One loop of imports through each group of modules that import each other (a strongly
    connected component of more than one module), as the modules in import order."""
    index: dict[str, int] = {}
    lowest: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(module: str) -> None:  # Tarjan's algorithm
        index[module] = lowest[module] = len(index)
        stack.append(module)
        for imported in graph[module]:
            if imported not in index:
                visit(imported)
                lowest[module] = min(lowest[module], lowest[imported])
            elif imported in stack:
                lowest[module] = min(lowest[module], index[imported])
        if lowest[module] == index[module]:
            # `module` heads a group: it and the modules above it on the stack.
            group = set(stack[stack.index(module) :])
            del stack[stack.index(module) :]
            if len(group) > 1:
                groups.append(group)

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return [_loop_through(sorted(group)[0], group, graph) for group in groups]


def _loop_through(
    start: str, group: Collection[str], graph: Mapping[str, Collection[str]]
) -> list[str]:
    """The shortest way of imports from `start` back to it within `group`."""
    came_from: dict[str, str] = {}
    waiting = deque([start])
    while waiting:
        module = waiting.popleft()
        for imported in sorted(graph[module]):
            if imported == start:
                loop = [module]
                while loop[-1] != start:
                    loop.append(came_from[loop[-1]])
                return [*reversed(loop), start]
            if imported in group and imported not in came_from:
                came_from[imported] = module
                waiting.append(imported)
    raise AssertionError(f"{start} is in no loop")


def _tier_of(path: Path) -> int | None:
    """The index in TIERS of a file's tier, by its longest entry; None where none holds it."""
    relative = path.relative_to(ROOT).as_posix()
    entries = [
        (len(entry), tier)
        for tier, (_, places) in enumerate(TIERS)
        for entry in places
        if relative == entry or (entry.endswith("/") and relative.startswith(entry))
    ]
    return max(entries)[1] if entries else None


def test_modules_never_import_each_other_in_a_circle() -> None:
    graph = _import_graph()
    circles = [" -> ".join(loop) for loop in _circles(graph)]
    assert circles == []
    # The check reads real imports: it sees the arrows it guards.
    assert "bot.platform.budget" in graph["bot.platform"]
    assert "storage.search_text" in graph["storage.sqlite.articles"]


def test_no_module_imports_one_of_a_higher_tier() -> None:
    files = _project_files()
    placed = {module: _tier_of(path) for module, path in files.items()}
    unplaced = [str(files[module].relative_to(ROOT)) for module, t in placed.items() if t is None]
    assert sorted(unplaced) == []  # each new file is given its tier in TIERS
    tiers = {module: tier for module, tier in placed.items() if tier is not None}
    upward = [
        f"{module} ({TIERS[tiers[module]][0]}) imports {imported} ({TIERS[tiers[imported]][0]})"
        for module, imports in sorted(_import_graph().items())
        for imported in sorted(imports)
        if tiers[imported] > tiers[module]
    ]
    assert upward == []
    # An entry that names nothing (its module moved away) would guard nothing.
    assert [entry for _, places in TIERS for entry in places if not (ROOT / entry).exists()] == []


def test_only_storage_reaches_into_a_backend() -> None:
    # One package per backend under storage/ (storage/sqlite/); the rest of the project speaks
    # to the repository Protocols and the storage vocabulary, and storage/ opens the backend.
    backends = {f"storage.{path.parent.name}" for path in ROOT.glob("storage/*/__init__.py")}
    assert "storage.sqlite" in backends
    reaching = [
        f"{module} imports {imported}"
        for module, imports in sorted(_import_graph().items())
        if module.split(".")[0] != "storage"
        for imported in sorted(imports)
        if any(imported == backend or imported.startswith(f"{backend}.") for backend in backends)
    ]
    assert reaching == []


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

"""tests.contract reads the vendored spec, and nothing in the project depends on files outside it.

A fresh clone must be able to run the suite: the Order Manager spec lives in the repository
(``connectors/specs/``, its source in the README there) and no committed file names a path of
the machine it was written on or a workspace folder next to the repository.
"""

import hashlib
import re
import subprocess
from pathlib import Path

from tests.contract import SPEC_PATH, load_spec

ROOT = Path(__file__).resolve().parent.parent
SPEC_README = ROOT / "connectors" / "specs" / "README.md"

# Spelled in pieces so this file does not match itself.
OUTSIDE_PATHS = re.compile("|".join([re.escape("/" + "work" + "/"), re.escape(".." + "/shared")]))
TEXT_SUFFIXES = {
    ".py",
    ".md",
    ".txt",
    ".html",
    ".json",
    ".ini",
    ".cfg",
    ".toml",
    ".yml",
    ".yaml",
    ".js",
    ".css",
    ".sh",
    ".env.example",
    "",
}


def committed_files() -> list[Path]:
    """The files git tracks (a fresh clone's content), or every file when there is no git."""
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60)
        return [ROOT / name for name in out.stdout.decode().split("\0") if name]
    except (OSError, subprocess.SubprocessError):
        skip = {".git", ".venv", "__pycache__", "node_modules", "staticfiles"}
        return [p for p in ROOT.rglob("*") if p.is_file() and not skip & set(p.relative_to(ROOT).parts)]


def test_the_spec_is_read_from_inside_the_repository():
    assert SPEC_PATH.is_file()
    assert SPEC_PATH.resolve().is_relative_to(ROOT)
    assert load_spec()["info"]["x-jentic-source-url"] == "https://api.skubana.com/v2/api-docs"


def test_the_vendored_spec_is_the_one_its_readme_names():
    # Replacing the spec without recording its source in the README fails here.
    digest = hashlib.sha256(SPEC_PATH.read_bytes()).hexdigest()
    assert digest in SPEC_README.read_text(), f"connectors/specs/README.md does not name the spec's SHA-256 {digest}"


def test_no_committed_file_names_a_path_outside_the_repository():
    found = []
    for path in committed_files():
        if not path.is_file() or (path.suffix not in TEXT_SUFFIXES and path.name != "Procfile.demo"):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if OUTSIDE_PATHS.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:120]}")
    assert not found, "files name paths outside the repository:\n" + "\n".join(found)

"""The lock files (scripts/setup.sh installs with `-c <lock>`): each environment's requirements are all pinned
there, to a version they accept; a requirement added or moved without `make lock` fails here, not on a fresh
machine's pip."""

from __future__ import annotations

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from bot.core.settings import ROOT
from scripts.lock import requirement_lines

ENVIRONMENTS = {
    "requirements-actions.lock": ["requirements-actions.txt", "requirements-dev.txt"],
    "requirements-rasa.lock": ["requirements.txt"],
}


def pins(lock: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in (ROOT / lock).read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, sep, version = line.partition("==")
            assert sep and version and " " not in line, f"{lock}: not name==version: {line!r}"
            assert canonicalize_name(name) not in found, f"{lock}: {name} twice"
            found[canonicalize_name(name)] = version
    return found


@pytest.mark.parametrize("lock", sorted(ENVIRONMENTS))
def test_every_requirement_is_pinned_to_a_version_it_accepts(lock):
    pinned = pins(lock)
    for line in (line for f in ENVIRONMENTS[lock] for line in requirement_lines(ROOT / f)):
        req = Requirement(line)
        version = pinned.get(canonicalize_name(req.name))
        assert version, f"{req.name} is not in {lock}: run make lock"
        assert req.specifier.contains(version, prereleases=True), f"{lock} pins {req.name}=={version}, not {req}"


def test_the_actions_lock_keeps_torch_on_the_cpu_wheel():
    """setup.sh gets torch from the machine's CPU wheel (pip's find-links); a plain pin would accept the CUDA build."""
    assert pins("requirements-actions.lock")["torch"].endswith("+cpu")


def test_requirement_lines_follow_includes_and_drop_comments(tmp_path):
    (tmp_path / "base.txt").write_text("# c\nPyYAML~=6.0  # why\n-c other.lock\n", encoding="utf-8")
    (tmp_path / "dev.txt").write_text("-r base.txt\npsycopg[binary]~=3.3\n", encoding="utf-8")
    assert requirement_lines(tmp_path / "dev.txt") == ["PyYAML~=6.0", "psycopg[binary]~=3.3"]

"""A fresh clone tests itself: no file of the repository reaches for a path outside it (such as
a sibling checkout's folder), because a user's clone has nothing beside it."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PARENTS = re.compile(r"parents\[(\d+)\]")
UPWARD = re.compile(r"""["'](?:\.\./)+[\w.-]""")  # a string literal that climbs out of its folder


def tracked(*patterns: str) -> list[Path]:
    out = subprocess.run(["git", "ls-files", *patterns], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [ROOT / line for line in out.splitlines() if (ROOT / line).is_file()]


def escapes(path: Path, root: Path = ROOT) -> list[str]:
    """`Path(__file__).resolve().parents[n]` beyond the root, and relative '../' paths in code."""
    depth = len(path.relative_to(root).parts)  # parents[depth - 1] is the repository root
    found = []
    for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        if "__file__" in line and any(int(n) >= depth for n in PARENTS.findall(line)):
            found.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
        if UPWARD.search(line):
            found.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    return found


def test_no_file_reads_a_path_outside_the_repository():
    files = tracked("*.py", "Makefile", ".ci/*", "*.toml", "*.ini", "*.cfg")
    assert len(files) > 50
    checked = [f for f in files if f != Path(__file__).resolve()]  # this file spells out bad examples
    assert [hit for f in checked for hit in escapes(f)] == []


def test_the_check_catches_a_reach_outside(tmp_path):
    (tmp_path / "tests").mkdir()
    bad = tmp_path / "tests" / "bad.py"
    bad.write_text('A = Path(__file__).resolve().parents[2] / "sibling"\nB = open("../sibling/slack/x.json")\n'
                   'C = Path(__file__).resolve().parents[1] / "examples"\n')
    assert [hit.split(":")[1] for hit in escapes(bad, tmp_path)] == ["1", "2"]


def test_the_slack_fixtures_are_in_the_repository():
    from tests.slack_requests import SAMPLES, SCHEMAS

    assert SAMPLES.is_relative_to(ROOT) and SCHEMAS.is_relative_to(ROOT)
    assert tracked("tests/fixtures/slack/SOURCES.md")
    assert tracked("tests/fixtures/slack/samples/request_signing_test_vector.json")
    assert tracked("tests/fixtures/slack/schemas/block_kit_community/slack-block-kit.schema.json")

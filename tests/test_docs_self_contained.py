"""What a user reads points only inside the repository or at public sources.

The team's internal notes (a specification, design notes and a folder shared beside the checkout)
are not shipped: no README, doc, source string, benchmark or test may send a reader there. Every
relative link in the README and docs/ must reach a file that exists, and a link's #anchor a
heading of that file; every `docs/<name>.md` mentioned anywhere must exist too.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Pointers to files that live outside the repository (built from parts so this file has none).
INTERNAL = re.compile(r"\bSPEC\b|\bDESIGN\b|SPEC\.md|DESIGN\.md|" + "shared" + r"/")
TEXT_SUFFIXES = {".py", ".md", ".yaml", ".yml", ".toml", ".txt", ".xml", ".cfg", ".ini", ""}
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
DOC_MENTION = re.compile(r"\bdocs/[\w./-]+\.md(?:#[\w-]+)?")
FENCE = re.compile(r"^\s*(```|~~~)")


def user_facing_texts() -> list[tuple[Path, str]]:
    """(path, text) of the README, docs, the package's sources and data, benchmarks (scripts and
    written results in text form) and tests, this file excepted; binary files are skipped."""
    files = [ROOT / "README.md", ROOT / "pyproject.toml", ROOT / "Makefile"]
    for folder in ("docs", "src", "benchmarks", "tests"):
        files += [p for p in (ROOT / folder).rglob("*") if p.is_file() and p.suffix in TEXT_SUFFIXES]
    texts = []
    for path in files:
        built = any(part == "__pycache__" or part.endswith(".egg-info") for part in path.parts)  # not sources
        if not path.exists() or path.resolve() == Path(__file__).resolve() or built:
            continue
        try:
            texts.append((path, path.read_text(encoding="utf-8")))
        except UnicodeDecodeError:
            continue
    return texts


def markdown_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def _prose_lines(text: str) -> list[str]:
    """The lines outside fenced code blocks, with inline code spans removed."""
    out, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            out.append(re.sub(r"`[^`]*`", "", line))
    return out


def heading_anchors(text: str) -> set[str]:
    """GitHub's anchors of a markdown file's headings: lower case, markup and punctuation dropped,
    each space a hyphen; a repeated heading gets -1, -2, ..."""
    seen: Counter[str] = Counter()
    anchors = set()
    fenced = False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        match = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if fenced or not match:
            continue
        title = re.sub(r"[`*]", "", match.group(1)).lower()
        slug = re.sub(r"[^\w\- ]", "", title).replace(" ", "-")
        anchors.add(slug if not seen[slug] else f"{slug}-{seen[slug]}")
        seen[slug] += 1
    return anchors


def broken_link(target: str, source: Path) -> str | None:
    """Why the relative link ``target`` written in ``source`` does not resolve; None when it does
    (or when it is an absolute URL, which this test does not fetch)."""
    if re.match(r"[a-z][a-z0-9+.-]*:", target):
        return None
    path_part, _, anchor = target.partition("#")
    file = (source.parent / path_part).resolve() if path_part else source
    if not file.is_file():
        return f"{target}: no such file"
    if anchor and file.suffix == ".md" and anchor not in heading_anchors(file.read_text(encoding="utf-8")):
        return f"{target}: {file.name} has no heading #{anchor}"
    return None


def broken_links(text: str, source: Path) -> list[str]:
    problems = []
    for line in _prose_lines(text):
        for target in LINK.findall(line):
            why = broken_link(target, source)
            if why:
                problems.append(why)
    return problems


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_nothing_points_at_the_teams_internal_files():
    hits = [
        f"{_rel(path)}:{number}: {line.strip()[:100]}"
        for path, text in user_facing_texts()
        for number, line in enumerate(text.splitlines(), 1)
        if INTERNAL.search(line)
    ]
    assert not hits, "points outside the repository:\n" + "\n".join(hits)


def test_every_relative_link_in_the_readme_and_docs_resolves():
    problems = [f"{_rel(p)}: {why}" for p in markdown_files() for why in broken_links(p.read_text("utf-8"), p)]
    assert not problems, "\n".join(problems)


def test_every_docs_page_mentioned_anywhere_exists():
    problems = []
    for path, text in user_facing_texts():
        for mention in set(DOC_MENTION.findall(text)):
            why = broken_link(mention, ROOT / "README.md")  # mentions are relative to the repository root
            if why:
                problems.append(f"{_rel(path)}: {why}")
    assert not problems, "\n".join(sorted(problems))


def test_the_checks_can_fail(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# A title\n\n## Push-T (`pusht`)\n\n```\n# not a heading\n```\n## Push-T (`pusht`)\n")
    assert heading_anchors(page.read_text()) == {"a-title", "push-t-pusht", "push-t-pusht-1"}
    text = "[ok](page.md#push-t-pusht) [gone](nope.md) [bad](page.md#nowhere) [web](https://x.org/a.md) `[c](nope.md)`"
    assert broken_links(text, page) == ["nope.md: no such file", "page.md#nowhere: page.md has no heading #nowhere"]
    assert INTERNAL.search("see " + "SPEC" + " §4") and INTERNAL.search("../" + "shared" + "/seeds/x.md")
    assert not INTERNAL.search("TaskSpec, spec.max_episode_steps, NEAR_EXPERT")

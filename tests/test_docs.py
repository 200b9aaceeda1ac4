"""The docs stay true to the code: docs/domain.md links every rule R1–R19 to a function
that exists and names a test that exists, and the repository is self-contained."""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import pytest

from schema import build_schema

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = ROOT / "docs" / "domain.md"
SKIPPED = {".git", ".venv", "var", "node_modules", "__pycache__", ".pytest_cache", "static"}
TEXT = {".py", ".md", ".toml", ".txt", ".graphql", ".html", ".cfg", ".yml", ""}


def repository_files() -> list[Path]:
    """The repository's text files, without what git ignores (the virtualenv, var/ …)."""
    found = []
    for folder, subfolders, files in os.walk(ROOT):
        subfolders[:] = [name for name in subfolders if name not in SKIPPED]
        found += [Path(folder) / name for name in files if Path(name).suffix in TEXT]
    return found


def docstrings(path: Path) -> dict[str, str]:
    """The docstring of every function and class the module defines, by `name` or
    `Class.name`."""
    found: dict[str, str] = {}
    definitions = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, definitions):
            found[node.name] = ast.get_docstring(node) or ""
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, definitions):
                    found[f"{node.name}.{item.name}"] = ast.get_docstring(item) or ""
    return found


def defined_names(path: Path) -> set[str]:
    return set(docstrings(path))


def names_rule(docstring: str, rule: str) -> bool:
    """Whether `docstring` cites `rule`, alone or within a range such as R13–R15."""
    number = int(rule[1:])
    for first, last in re.findall(r"\bR(\d+)(?:\s*[–-]\s*R(\d+))?\b", docstring):
        if int(first) <= number <= int(last or first):
            return True
    return False


def rules() -> dict[str, str]:
    """Each rule's paragraphs of docs/domain.md, by its number."""
    text = DOMAIN.read_text(encoding="utf-8")
    return {
        match.group(1): match.group(0)
        for match in re.finditer(r"^\*\*(R\d+)\..*?(?=^\*\*R\d+\.|^#|\Z)", text, re.M | re.S)
    }


def test_the_docs_show_only_arguments_the_schema_has():
    """`field(argument: …)` in README.md or docs/ names an argument that a field of that
    name takes."""
    arguments: dict[str, set[str]] = {}
    for kind in build_schema()._schema.type_map.values():
        for name, field in (getattr(kind, "fields", None) or {}).items():
            arguments.setdefault(name, set()).update(getattr(field, "args", None) or {})
    documents = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    shown = [
        (path.name, field, argument)
        for path in documents
        for field, argument in re.findall(
            r"\b([a-z]\w*)\(([a-z]\w*):", path.read_text(encoding="utf-8")
        )
        if field in arguments
    ]

    assert shown, "the check found no example to check"
    assert [s for s in shown if s[2] not in arguments[s[1]]] == []


OUTSIDE = "/".join(("..", "shared"))  # spelled so that this file does not contain it


def test_no_file_points_outside_the_repository():
    outside = [
        str(path.relative_to(ROOT))
        for path in repository_files()
        if OUTSIDE in path.read_text(encoding="utf-8", errors="replace")
    ]
    assert outside == []


def test_no_code_cites_a_tracker_number():
    citing = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in repository_files()
        if path.suffix == ".py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"[Ii]ssue #?[0-9]+", line) and path != Path(__file__)
    ]
    assert citing == []


def test_every_faq_rule_is_documented_with_its_function_and_test():
    assert sorted(rules(), key=lambda r: int(r[1:])) == [f"R{n}" for n in range(1, 20)]


@pytest.mark.parametrize("rule", [f"R{n}" for n in range(1, 20)])
def test_each_rule_links_the_function_that_names_it_and_a_test_that_exists(rule):
    paragraph = rules()[rule]
    links = re.findall(r"\[([\w/.]+): ([\w.]+)\]\(\.\./([\w/.]+)\)", paragraph)
    assert links, f"{rule} links to no function"
    for shown, name, target in links:
        assert shown == target, f"{rule}: the link text says {shown}, the link goes to {target}"
        assert (ROOT / target).is_file(), f"{rule}: there is no {target}"
        assert name in defined_names(ROOT / target), f"{rule}: {target} defines no {name}"
    assert any(names_rule(docstrings(ROOT / t).get(n, ""), rule) for _, n, t in links), (
        f"{rule}: the docstring of the function that holds it does not name it"
    )
    tests = re.findall(r"`(?:(tests/\w+\.py))?::(test_\w+)`", paragraph)
    assert tests, f"{rule} names no test"
    module = ""
    for path, test in tests:
        module = path or module
        assert (ROOT / module).is_file(), f"{rule}: there is no {module}"
        assert test in defined_names(ROOT / module), f"{rule}: {module} has no {test}"


def test_the_benchmark_documents_are_valid_against_the_schema():
    """The benchmark sends what a client would: every GraphQL document in
    `benchmarks/documents.py` passes validation against the schema served."""
    from graphql import parse, validate

    from benchmarks import documents

    texts = {
        name: value
        for name, value in vars(documents).items()
        if name.isupper() and isinstance(value, str)
        and value.lstrip().startswith(("query", "mutation", "{"))
    }  # fmt: skip
    graphql_schema = build_schema()._schema

    problems = {
        name: [e.message for e in validate(graphql_schema, parse(text))]
        for name, text in texts.items()
    }

    assert "DASHBOARD" in texts
    assert {name: found for name, found in problems.items() if found} == {}

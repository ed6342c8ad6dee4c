"""Root-cause themes: a versioned taxonomy the team edits as data (metrics/taxonomy/themes.yaml).

Each overturned appeal gets the theme of the matching rule with the lowest precedence; an
overturned appeal no rule matches is `unclassified`; other appeals have no theme. The SQL
CASE expression that facts run is generated from the file, so an edit to the file takes
effect on the next computation without a code change. `APPEALS_TAXONOMY` points at another
file (a team trying a draft taxonomy).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

UNCLASSIFIED = "unclassified"
DEFAULT_PATH = Path(__file__).resolve().parent / "taxonomy" / "themes.yaml"

# rule condition → the facts column it tests (exact match unless said otherwise)
CONDITIONS = {
    "root_cause": "root_cause",
    "enforcement_source": "enforcement_source",
    "policy": "policy",
    "enforced_by": "enforced_by",  # `*` wildcard
    "note_contains": "decision_note",  # case-insensitive substring
}
_NAME = re.compile(r"[a-z][a-z0-9_]*")


class TaxonomyError(ValueError):
    """The taxonomy file is unusable; the message names the file and the field."""


@dataclass(frozen=True)
class Rule:
    precedence: int
    conditions: tuple[tuple[str, tuple[str, ...]], ...]  # (condition, values), all must hold

    def values(self, condition: str) -> tuple[str, ...]:
        return dict(self.conditions).get(condition, ())


@dataclass(frozen=True)
class Theme:
    name: str
    label: str
    description: str = ""
    owner: str = ""
    rules: tuple[Rule, ...] = ()

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(c for r in self.rules for c in r.values("root_cause"))

    @property
    def note_phrases(self) -> tuple[str, ...]:
        return tuple(p for r in self.rules for p in r.values("note_contains"))


@dataclass(frozen=True)
class Taxonomy:
    version: str
    themes: tuple[Theme, ...]
    path: str

    def ordered_rules(self) -> list[tuple[Rule, Theme]]:
        return sorted(((r, t) for t in self.themes for r in t.rules), key=lambda rt: rt[0].precedence)

    def labels(self) -> dict[str, str]:
        return {t.name: t.label for t in self.themes} | {UNCLASSIFIED: "Unclassified"}


def taxonomy_path() -> Path:
    return Path(os.environ.get("APPEALS_TAXONOMY") or DEFAULT_PATH)


def load(path: str | Path | None = None) -> Taxonomy:
    """The taxonomy in force: the file as it is now (re-read when it changes)."""
    p = Path(path) if path else taxonomy_path()
    try:
        stat = p.stat()
    except OSError:
        raise TaxonomyError(f"taxonomy: cannot read {p}") from None
    return _load(str(p), stat.st_mtime_ns, stat.st_size)


@cache
def _load(path: str, _mtime_ns: int, _size: int) -> Taxonomy:
    try:
        doc = yaml.safe_load(Path(path).read_text())
    except yaml.YAMLError as exc:
        raise TaxonomyError(f"taxonomy {path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    return parse(doc, path)


def parse(doc, path: str = "<taxonomy>") -> Taxonomy:
    def bad(msg: str):
        raise TaxonomyError(f"taxonomy {path}: {msg}")

    if not isinstance(doc, dict):
        bad("expected a mapping with `version` and `themes`")
    unknown = set(doc) - {"version", "themes"}
    if unknown:
        bad(f"unknown key {sorted(unknown)[0]!r}")
    version = doc.get("version")
    if version is None or str(version).strip() == "":
        bad("`version` is required")
    items = doc.get("themes")
    if not isinstance(items, list) or not items:
        bad("`themes` must be a non-empty list")
    themes, names, precedences = [], set(), {}
    for i, item in enumerate(items):
        where = f"themes[{i}]"
        if not isinstance(item, dict):
            bad(f"{where}: expected a mapping")
        extra = set(item) - {"name", "label", "description", "owner", "rules"}
        if extra:
            bad(f"{where}: unknown key {sorted(extra)[0]!r}")
        name = str(item.get("name") or "")
        if not _NAME.fullmatch(name) or name == UNCLASSIFIED:
            bad(f"{where}.name: {name!r} must be lower_snake_case and not {UNCLASSIFIED!r}")
        if name in names:
            bad(f"{where}.name: duplicate theme {name!r}")
        names.add(name)
        rules = []
        for j, raw in enumerate(item.get("rules") or []):
            rwhere = f"{where}.rules[{j}]"
            if not isinstance(raw, dict):
                bad(f"{rwhere}: expected a mapping")
            prec = raw.get("precedence")
            if not isinstance(prec, int) or isinstance(prec, bool):
                bad(f"{rwhere}.precedence: an integer is required")
            if prec in precedences:
                bad(f"{rwhere}.precedence: {prec} is also used by {precedences[prec]} (precedence must be unique)")
            precedences[prec] = rwhere
            conds = []
            for key, values in raw.items():
                if key == "precedence":
                    continue
                if key not in CONDITIONS:
                    bad(f"{rwhere}: unknown condition {key!r} (one of {', '.join(CONDITIONS)})")
                values = [values] if isinstance(values, str) else values
                if not isinstance(values, list) or not values or not all(isinstance(v, str) and v.strip() for v in values):
                    bad(f"{rwhere}.{key}: a non-empty list of texts is required")
                conds.append((key, tuple(v.strip() for v in values)))
            if not conds:
                bad(f"{rwhere}: a rule needs at least one condition")
            rules.append(Rule(prec, tuple(conds)))
        if not rules:
            bad(f"{where}.rules: at least one rule is required")
        themes.append(Theme(name, str(item.get("label") or name.replace("_", " ").capitalize()),
                            str(item.get("description") or ""), str(item.get("owner") or ""), tuple(rules)))
    return Taxonomy(str(version).strip(), tuple(themes), path)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _like(column: str, text: str, wildcard: bool = False) -> str:
    """`column like '%text%'` (or a `*` pattern), escaping LIKE's own wildcards only when present."""
    escaped = text.replace("!", "!!").replace("%", "!%").replace("_", "!_")
    pattern = escaped.replace("*", "%") if wildcard else "%" + escaped + "%"
    suffix = " escape '!'" if escaped != text else ""
    return f"{column} like {_quote(pattern)}{suffix}"


def _condition_sql(key: str, values: tuple[str, ...], columns: dict[str, str]) -> str:
    col = columns[key]
    if key == "note_contains":
        parts = [_like(f"lower({col})", v.lower()) for v in values]
    elif key == "enforced_by" and any("*" in v for v in values):
        parts = [_like(col, v, wildcard=True) if "*" in v else f"{col} = {_quote(v)}" for v in values]
    else:
        return f"{col} in ({', '.join(_quote(v) for v in values)})"
    return parts[0] if len(parts) == 1 else "(" + " or ".join(parts) + ")"


def theme_sql(root_cause: str = "root_cause", note: str = "decision_note", overturned: str = "outcome",
              taxonomy: Taxonomy | None = None) -> str:
    """CASE expression giving the theme of an appeal from its final decision and enforcement."""
    tax = taxonomy or load()
    columns = dict(CONDITIONS) | {"root_cause": root_cause, "note_contains": note}
    is_overturned = f"{overturned} in ('overturned', 'partially_overturned')"
    whens = []
    for rule, theme in tax.ordered_rules():
        cond = " and ".join(_condition_sql(k, v, columns) for k, v in rule.conditions)
        whens.append(f"when {cond} then {_quote(theme.name)}")
    body = "\n            ".join(whens)
    return f"case when not ({is_overturned}) or {overturned} is null then null\n            {body}\n            else {_quote(UNCLASSIFIED)} end"


def version_sql(taxonomy: Taxonomy | None = None) -> str:
    return _quote((taxonomy or load()).version)


def describe_rule(rule: Rule) -> str:
    """A rule in words: "precedence 10: root_cause is automation_false_positive"."""
    verbs = {"note_contains": "contains", "enforced_by": "matches"}
    parts = [f"{'decision note' if k == 'note_contains' else k} {verbs.get(k, 'is')} {' or '.join(repr(x) if k == 'note_contains' else x for x in v)}"
             for k, v in rule.conditions]
    return f"precedence {rule.precedence}: " + " and ".join(parts)


def as_records(taxonomy: Taxonomy | None = None) -> list[dict]:
    tax = taxonomy or load()
    return [
        {"theme": t.name, "label": t.label, "description": t.description, "owner": t.owner,
         "codes": list(t.codes), "note_phrases": list(t.note_phrases),
         "rules": [describe_rule(r) for r in t.rules]}
        for t in tax.themes
    ]


def __getattr__(name: str):
    # the taxonomy in force, for callers that read the old module constants
    if name == "THEMES":
        return load().themes
    if name == "TAXONOMY_VERSION":
        return load().version
    raise AttributeError(name)

"""Root-cause themes: a versioned taxonomy from root-cause codes and decision-note wording.

Each overturned appeal gets the first theme whose rule matches (codes first, then note
phrases); an overturned appeal no rule matches is `unclassified`; other appeals have no
theme. The SQL CASE expression that facts run is generated from this list.
"""

from __future__ import annotations

from dataclasses import dataclass

from metrics.conditions import sql_list
from metrics.conditions import sql_literal as _quote
from metrics.contract import OVERTURN_OUTCOMES

TAXONOMY_VERSION = "1"
UNCLASSIFIED = "unclassified"


@dataclass(frozen=True)
class Theme:
    name: str
    label: str
    codes: tuple[str, ...]
    note_phrases: tuple[str, ...] = ()


THEMES: tuple[Theme, ...] = (
    Theme(
        "automation_false_positives",
        "Automation false positives",
        ("automation_false_positive",),
        ("model flagged", "automated flag", "false positive", "classifier"),
    ),
    Theme("policy_ambiguity", "Policy ambiguity", ("policy_misapplied", "policy_changed"), ("policy unclear", "ambiguous")),
    Theme(
        "evidence_standards",
        "Evidence standards",
        ("new_evidence", "insufficient_evidence"),
        ("receipt", "proof of purchase", "certificate", "invoice"),
    ),
    Theme("agent_error", "Agent error", ("agent_error",), ("misread", "wrong account")),
    Theme("tooling", "Tooling", ("tooling_defect",), ("tool bug", "tooling", "did not load")),
)


def theme_sql(root_cause: str = "root_cause", note: str = "decision_note", overturned: str = "outcome") -> str:
    """CASE expression giving the theme of an appeal from its final decision."""
    is_overturned = f"{overturned} in ({sql_list(OVERTURN_OUTCOMES)})"
    whens = []
    for theme in THEMES:
        whens.append(f"when {root_cause} in ({', '.join(_quote(c) for c in theme.codes)}) then {_quote(theme.name)}")
    for theme in THEMES:
        for phrase in theme.note_phrases:
            whens.append(f"when lower({note}) like {_quote('%' + phrase.lower() + '%')} then {_quote(theme.name)}")
    body = "\n            ".join(whens)
    return f"case when not ({is_overturned}) or {overturned} is null then null\n            {body}\n            else {_quote(UNCLASSIFIED)} end"


def as_records() -> list[dict]:
    return [
        {"theme": t.name, "label": t.label, "codes": list(t.codes), "note_phrases": list(t.note_phrases)}
        for t in THEMES
    ]

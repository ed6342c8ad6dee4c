"""The theme taxonomy is data: a YAML file whose edits change facts without a code change."""

from __future__ import annotations

import pytest

from metrics import api, themes
from tests.helpers import make_warehouse

# Four overturned appeals and one upheld, decided 2026-03-03, hand-labelled below.
ROWS = {
    "appeals": [
        {"appeal_id": f"a{i}", "queue": "account_suspension", "priority": "P1", "created_at": "2026-03-02 09:00",
         "enforcement_id": f"e{i}", "appellant_type": "seller"}
        for i in range(1, 6)
    ],
    "enforcements": [
        {"enforcement_id": "e1", "action": "account_suspension", "policy": "impersonation", "source": "human",
         "enforced_by": "agent_001", "enforced_at": "2026-03-01 09:00"},
        {"enforcement_id": "e2", "action": "account_suspension", "policy": "impersonation", "source": "automated",
         "enforced_by": "cv-badge-v3.3", "enforced_at": "2026-03-01 09:00"},
        {"enforcement_id": "e3", "action": "account_suspension", "policy": "counterfeit", "source": "automated",
         "enforced_by": "cv-badge-v2.0", "enforced_at": "2026-03-01 09:00"},
        {"enforcement_id": "e4", "action": "account_suspension", "policy": "impersonation", "source": "human",
         "enforced_by": "agent_002", "enforced_at": "2026-03-01 09:00"},
        {"enforcement_id": "e5", "action": "account_suspension", "policy": "impersonation", "source": "human",
         "enforced_by": "agent_002", "enforced_at": "2026-03-01 09:00"},
    ],
    "appeal_events": [
        {"event_id": f"d{i}", "appeal_id": f"a{i}", "occurred_at": "2026-03-03 09:00", "event_type": "decided",
         "actor_id": "s1", "actor_type": "specialist", "outcome": outcome, "root_cause": rc, "note": note}
        for i, outcome, rc, note in [
            (1, "overturned", "agent_error", "Verification badge did not render on the storefront"),
            (2, "overturned", None, "Seller VERIFICATION BADGE missing"),
            (3, "partially_overturned", None, "nothing to see here"),
            (4, "overturned", None, "looks fine; 100%_legit"),
            (5, "upheld", None, "verification badge fine, upheld"),
        ]
    ],
}

DRAFT = """
version: "2-draft"
themes:
  - name: verification_badge
    label: Verification badge
    description: Sellers suspended because the verification badge did not render.
    owner: Product (storefront)
    rules:
      - precedence: 5
        note_contains: [verification badge]
  - name: agent_error
    label: Agent error
    rules:
      - precedence: 40
        root_cause: [agent_error]
  - name: model_v2
    label: Old badge model
    rules:
      - precedence: 60
        enforcement_source: automated
        enforced_by: ["cv-badge-v2.*"]
  - name: literal
    label: Literal wildcard characters
    rules:
      - precedence: 70
        note_contains: ["100%_legit"]
"""


def _themes(url):
    facts = api.facts(url, wide=True)
    return dict(zip(facts["appeal_id"], facts["theme"], strict=True)), set(facts["taxonomy_version"])


def test_default_taxonomy_is_the_file(tmp_path, monkeypatch):
    monkeypatch.delenv("APPEALS_TAXONOMY", raising=False)
    url = make_warehouse(tmp_path, ROWS)
    got, versions = _themes(url)
    # a1: code agent_error (precedence 40) → agent_error; a2..a4: no code, no known wording → unclassified;
    # a5 upheld → no theme
    assert got == {"a1": "agent_error", "a2": "unclassified", "a3": "unclassified", "a4": "unclassified", "a5": None}
    assert versions == {"1"}


def test_a_file_edit_takes_effect_without_code_change(tmp_path, monkeypatch):
    url = make_warehouse(tmp_path, ROWS)
    draft = tmp_path / "draft.yaml"
    draft.write_text(DRAFT)
    monkeypatch.setenv("APPEALS_TAXONOMY", str(draft))
    got, versions = _themes(url)
    # a1: wording rule (precedence 5) beats its agent_error code (40) → verification_badge
    # a2: wording matches case-insensitively → verification_badge
    # a3: automated and enforced_by cv-badge-v2.0 matches cv-badge-v2.* → model_v2
    # a4: "100%_legit" is literal (% and _ escaped), matches → literal; a5 upheld → none
    assert got == {"a1": "verification_badge", "a2": "verification_badge", "a3": "model_v2", "a4": "literal",
                   "a5": None}
    assert versions == {"2-draft"}
    # the same file edited in place is re-read: drop the badge rule → a1 back to agent_error, a2 unclassified
    draft.write_text(DRAFT.replace("precedence: 5\n        note_contains: [verification badge]",
                                   "precedence: 5\n        note_contains: [no such wording anywhere]"))
    got, _ = _themes(url)
    assert got["a1"] == "agent_error" and got["a2"] == "unclassified"


@pytest.mark.parametrize("text, message", [
    ("version: '1'\nthemes:\n  - name: a\n    rules: [{precedence: 1, root_cause: [x]}]\n"
     "  - name: b\n    rules: [{precedence: 1, root_cause: [y]}]\n", r"themes\[1\].rules\[0\].precedence: 1 is also used"),
    ("version: '1'\nthemes:\n  - name: a\n    rules: [{precedence: 1, colour: [x]}]\n", "unknown condition 'colour'"),
    ("version: '1'\nthemes:\n  - name: unclassified\n    rules: [{precedence: 1, root_cause: [x]}]\n",
     r"themes\[0\].name"),
    ("themes: []\n", "`version` is required"),
    ("version: '1'\nthemes:\n  - name: a\n    rules: [{precedence: 1}]\n", "at least one condition"),
])
def test_bad_taxonomy_names_the_field(tmp_path, text, message):
    path = tmp_path / "t.yaml"
    path.write_text(text)
    with pytest.raises(themes.TaxonomyError, match=message):
        themes.load(path)


def test_prepared_models_follow_a_taxonomy_edit(tmp_path, monkeypatch):
    # the dashboard prepares the models once per as-of; an edited taxonomy must not be served stale
    url = make_warehouse(tmp_path, ROWS)
    draft = tmp_path / "draft.yaml"
    draft.write_text(DRAFT)
    monkeypatch.setenv("APPEALS_TAXONOMY", str(draft))
    wh = api.prepare(url)
    assert _themes(wh)[0]["a2"] == "verification_badge"
    monkeypatch.delenv("APPEALS_TAXONOMY")
    assert _themes(wh)[0]["a2"] == "unclassified"  # not the prepared (draft) facts
    api.prepare(wh)
    assert _themes(wh)[0]["a2"] == "unclassified" and _themes(wh)[1] == {"1"}

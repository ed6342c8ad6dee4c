"""The catalog rendered for people: `python -m metrics definitions` and the Definitions page."""

from __future__ import annotations

from metrics import catalog, themes


def as_json() -> dict:
    taxonomy = themes.load()
    return {
        "catalog_version": catalog.CATALOG_VERSION,
        "touch_event_types": list(catalog.TOUCH_EVENT_TYPES),
        "touch_definition_version": catalog.TOUCH_DEFINITION_VERSION,
        "min_group_size": catalog.MIN_GROUP_SIZE,
        "metrics": catalog.as_records(),
        "themes": {"version": taxonomy.version, "themes": themes.as_records(taxonomy)},
    }


def as_markdown() -> str:
    lines = [
        f"# Metric catalog v{catalog.CATALOG_VERSION}",
        "",
        f"First touch: the earliest event by a specialist of type {', '.join(catalog.TOUCH_EVENT_TYPES)} "
        f"(touch definition v{catalog.TOUCH_DEFINITION_VERSION}).",
        f"Groups with a rate denominator under {catalog.MIN_GROUP_SIZE} are marked \"too few to compare\".",
        "",
    ]
    for rec in catalog.as_records():
        lines += [
            f"## {rec['name']} — {rec['label']} (v{rec['version']})",
            "",
            rec["description"],
            "",
            f"- kind: {rec['kind']}; unit: {rec['unit']}; format: `{rec['format']}`; "
            f"higher is better: {rec['higher_is_better']}",
            f"- cohort: {rec['cohort']}",
            f"- formula: {rec['formula']}",
        ]
        if rec["needs"]:
            lines.append(f"- needs: {', '.join(rec['needs'])} (null with a reason when absent)")
        for edge in rec["edge_cases"]:
            lines.append(f"- edge case: {edge}")
        lines.append("")
    taxonomy = themes.load()
    lines += [f"## Root-cause themes (taxonomy v{taxonomy.version}, `{taxonomy.path}`)", "",
              "Each overturned appeal takes the theme of the matching rule with the lowest precedence.", ""]
    for t in themes.as_records(taxonomy):
        lines.append(f"- {t['label']} (`{t['theme']}`, owner: {t['owner'] or 'not set'}): {t['description']}")
        lines += [f"  - {rule}" for rule in t["rules"]]
    lines.append(f"- `{themes.UNCLASSIFIED}`: overturned appeals no rule matches")
    return "\n".join(lines)

"""Theme discovery: candidate new root-cause themes from the decision notes of overturns.

`python -m metrics themes` (interfaces.md). The notes of the overturned appeals that the
taxonomy leaves `unclassified` (optionally all overturns), resolved in the period, are compared
with those of a baseline period (default: the 8 weeks before). A term is a word or a two-word
phrase of adjacent words (stop words neither start nor end one), counted once per appeal.
Each term is scored by its log-odds ratio between period and baseline with add-½ smoothing,
divided by its standard error (a z-score: Monroe, Colaresi & Quinn 2008, "Fightin' Words"),
so a phrase that is frequent only now outranks one that is merely frequent. Terms found in
fewer than `min_appeals` period appeals are left out (small counts are noise). A term whose
appeals mostly (80%) carry a stronger term joins that term's candidate, labelled with its phrase,
so a lead can paste `terms` into a `note_contains` rule of metrics/taxonomy/themes.yaml.

Pure Python on purpose: the notes of one period are a few thousand short texts; scikit-learn's
TF-IDF would add a large dependency and a per-document weighting that answers a different
question ("what is this note about" rather than "what is new this period").
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from metrics import api, themes
from metrics.redact import redact_personal
from metrics.warehouse import WarehouseError

BASELINE_WEEKS = 8
MIN_APPEALS = 5
MAX_CANDIDATES = 10
MAX_EXAMPLES = 5
MIN_Z = 1.96  # more frequent than in the baseline beyond chance (two-sided 95%)
SMOOTHING = 0.5

STOP_WORDS = frozenset(["a", "an", "the", "and", "or", "but", "if", "then", "than", "so", "of", "to", "in", "on", "at", "by", "for", "from", "with", "without", "as", "is", "are", "was", "were", "be", "been", "being", "it", "its", "this", "that", "these", "those", "there", "here", "not", "no", "nor", "do", "does", "did", "done", "has", "have", "had", "having", "i", "we", "you", "he", "she", "they", "him", "her", "them", "his", "our", "your", "their", "my", "me", "us", "user", "users", "after", "before", "over", "under", "into", "out", "up", "down", "again", "same", "other", "such", "only", "own", "very", "can", "will", "just", "also", "per", "via", "see", "all", "any", "each", "few", "more", "most", "some", "what", "which", "who", "whom"])

_WORD = re.compile(r"[^\W\d_]+|\.")
_MASKS = re.compile(r"\[(email|handle|phone|card|user-link)\]")


def redact(text: str | None) -> str:
    """A note fit to show: personal data masked (metrics.redact.redact_personal, the one rule)."""
    return redact_personal(text)


def terms_of(text: str | None) -> set[str]:
    """The words and two-word phrases of a note (redacted first, lower case)."""
    return set(_terms(text))


# Notes repeat (templates, macros): a recent text is redacted and split once, however often the
# passes below read its terms again (they keep no appeal's terms). Small: unique notes gain
# nothing from it, and it lives as long as the app.
@functools.lru_cache(maxsize=4096)
def _terms(text: str | None) -> frozenset[str]:
    words = _WORD.findall(_MASKS.sub(" . ", redact(text).lower()))  # a mask ends a phrase
    out = {w for w in words if len(w) > 2 and w not in STOP_WORDS}  # "." is too short: never a term
    for a, b in zip(words, words[1:], strict=False):
        if a not in STOP_WORDS and b not in STOP_WORDS and len(a) > 1 and len(b) > 1:
            out.add(f"{a} {b}")
    return frozenset(out)


@dataclass
class Candidate:
    rank: int
    terms: str
    appeals: int
    baseline_appeals: int
    example_appeal_ids: list[str]
    score: float
    related_terms: list[str] = field(default_factory=list)
    weekly: dict[date, int] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)
    queues: dict[str, int] = field(default_factory=dict)


@dataclass
class Discovery:
    period: tuple[date, date]
    baseline: tuple[date, date]
    notes_in_period: int
    notes_in_baseline: int
    unclassified_only: bool
    candidates: list[Candidate]


def _day(value, name: str) -> date:
    d = api._date(value, name)
    if d is None:
        raise WarehouseError(f"{name}: a date is required")
    return d


def _instant(d: date, zone: ZoneInfo) -> str:
    return datetime.combine(d, time.min, zone).isoformat()


def notes(url, lo: date, hi: date, as_of=None, tz: str = "UTC", unclassified_only: bool = True) -> pl.DataFrame:
    """Overturned appeals resolved in [lo, hi] (whole days in tz) with their final decision note."""
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise WarehouseError(f"--tz: unknown IANA time zone {tz!r}") from None
    wh = api.open_warehouse(url)
    params = {"as_of": api.as_of_param(api.resolve_as_of(wh, as_of)), "notes_from": _instant(lo, zone),
              "notes_to": _instant(hi + timedelta(days=1), zone), "unclassified": themes.UNCLASSIFIED}
    only = "and f.theme = :unclassified" if unclassified_only else ""
    sql = wh.compose(None, (
        "select f.appeal_id, f.resolved_at, f.queue, f.theme, n.decision_note "
        "from appeal_facts as f left join decision_notes as n on n.appeal_id = f.appeal_id "
        "where f.is_overturned and f.resolved_at >= cast(:notes_from as timestamp with time zone) "
        f"and f.resolved_at < cast(:notes_to as timestamp with time zone) {only} "
        'order by f.appeal_id collate "C"'), params)
    schema = {"appeal_id": pl.Utf8, "resolved_at": pl.Datetime("us", "UTC"), "queue": pl.Utf8, "theme": pl.Utf8,
              "decision_note": pl.Utf8}
    return api.conform(wh.query(sql, params), schema)


def _z(y1: int, n1: int, y0: int, n0: int) -> float:
    a = SMOOTHING
    delta = math.log((y1 + a) / (n1 - y1 + a)) - math.log((y0 + a) / (n0 - y0 + a))
    var = 1 / (y1 + a) + 1 / (n1 - y1 + a) + 1 / (y0 + a) + 1 / (n0 - y0 + a)
    return delta / math.sqrt(var)


def score_terms(period_docs: dict[str, set[str]], baseline_docs: dict[str, set[str]],
                min_appeals: int = MIN_APPEALS) -> list[tuple[str, float, set[str], int]]:
    """(term, z, period appeal ids, baseline appeals) for terms over-represented in the period, best first."""
    base = Counter(t for ts in baseline_docs.values() for t in ts)
    return _scored(lambda: iter(period_docs.items()), base, len(baseline_docs), min_appeals)


def _scored(period: Callable[[], Iterator[tuple[str, frozenset[str] | set[str]]]], base: Counter, n0: int,
            min_appeals: int) -> list[tuple[str, float, set[str], int]]:
    """score_terms over (appeal id, terms) read twice from `period`: counted first, then the appeals
    of the scored terms alone collected. Holding every appeal's terms took 2.3 GB for the 840k
    overturns of a 10M warehouse's period and baseline (bench/README.md)."""
    counts: Counter = Counter()
    n1 = 0
    for _aid, ts in period():
        n1 += 1
        counts.update(ts)
    z_of = {}
    for t, c in counts.items():
        if c >= min_appeals:
            z = _z(c, n1, base.get(t, 0), n0)
            if z >= MIN_Z:
                z_of[t] = z
    del counts
    where: dict[str, set[str]] = {t: set() for t in z_of}
    for aid, ts in period():
        for t in ts & where.keys():
            where[t].add(aid)
    out = [(t, z, where[t], base.get(t, 0)) for t, z in z_of.items()]
    # ties: the longer phrase (more specific), then alphabetical, so runs are reproducible
    out.sort(key=lambda r: (-round(r[1], 9), -len(r[0].split()), r[0]))
    return out


def cluster(scored, max_candidates: int = MAX_CANDIDATES, overlap: float = 0.8):
    """Group terms that mark mostly the same appeals (at least `overlap` of a term's appeals are
    in a stronger group's lead term: a narrower wording of the same pattern joins it); each group
    keeps its best term first."""
    groups: list[list[tuple[str, float, set[str], int]]] = []
    for item in scored:
        ids = item[2]
        for g in groups:
            lead = g[0][2]
            if len(ids & lead) / len(ids) >= overlap:
                g.append(item)
                break
        else:
            if len(groups) < max_candidates:
                groups.append([item])
    return groups


def _label(group) -> tuple[str, float, set[str], int]:
    """The group's phrase: its best two-word phrase when that marks most of the group's appeals."""
    best = group[0]
    phrases = [g for g in group if " " in g[0] and len(g[2]) >= 0.6 * len(best[2])]
    return phrases[0] if " " not in best[0] and phrases else best


def discover(url=None, date_from=None, date_to=None, baseline_from=None, baseline_to=None, as_of=None,
             tz: str = "UTC", unclassified_only: bool = True, min_appeals: int = MIN_APPEALS,
             max_candidates: int = MAX_CANDIDATES) -> Discovery:
    lo, hi = _day(date_from, "--from"), _day(date_to, "--to")
    if hi < lo:
        raise WarehouseError(f"--to: {hi} is before --from {lo}")
    if (baseline_from is None) != (baseline_to is None):
        raise WarehouseError("--baseline-from/--baseline-to: give both or neither")
    if baseline_from is None:
        b_lo, b_hi = lo - timedelta(weeks=BASELINE_WEEKS), lo - timedelta(days=1)
    else:
        b_lo, b_hi = _day(baseline_from, "--baseline-from"), _day(baseline_to, "--baseline-to")
        if b_hi < b_lo:
            raise WarehouseError(f"--baseline-to: {b_hi} is before --baseline-from {b_lo}")
    wh = api.prepare(url, as_of)
    now = notes(wh, lo, hi, as_of, tz, unclassified_only).select("appeal_id", "resolved_at", "queue", "decision_note")
    before = notes(wh, b_lo, b_hi, as_of, tz, unclassified_only).select("appeal_id", "resolved_at", "decision_note")

    def docs(frame: pl.DataFrame) -> Iterator[tuple[str, frozenset[str]]]:
        return ((aid, _terms(note)) for aid, note in frame.select("appeal_id", "decision_note").iter_rows())

    base: Counter = Counter()
    for _aid, ts in docs(before):
        base.update(ts)
    groups = cluster(_scored(lambda: docs(now), base, before.height, min_appeals), max_candidates)
    labels = [_label(group) for group in groups]
    zone = ZoneInfo(tz)
    # each candidate's weekly count over the baseline and the period (zeros included), one pass
    weekly = {term: Counter({w: 0 for w in _week_starts(b_lo, hi)}) for term, *_ in labels}
    for frame in (before, now):
        for resolved_at, note in frame.select("resolved_at", "decision_note").iter_rows():
            found = _terms(note) & weekly.keys()
            if found:
                local = resolved_at.astimezone(zone).date()
                for term in found:
                    weekly[term][local - timedelta(days=local.weekday())] += 1
    candidates = []
    for rank, (group, (term, z, ids, base_n)) in enumerate(zip(groups, labels, strict=True), start=1):
        ids = sorted(ids)
        mine = now.filter(pl.col("appeal_id").is_in(ids))
        queues = Counter(mine["queue"].to_list())
        shown = dict(mine.select("appeal_id", "decision_note").iter_rows())
        candidates.append(Candidate(
            rank, term, len(ids), base_n, ids[:MAX_EXAMPLES], round(z, 3),
            [g[0] for g in group if g[0] != term][:8], dict(sorted(weekly[term].items())),
            [redact(shown[a]) for a in ids[:MAX_EXAMPLES]], dict(queues.most_common()),
        ))
    return Discovery((lo, hi), (b_lo, b_hi), now.height, before.height, unclassified_only, candidates)


def _week_starts(lo: date, hi: date) -> list[date]:
    first = lo - timedelta(days=lo.weekday())
    return [first + timedelta(weeks=i) for i in range((hi - first).days // 7 + 1)]


CONTRACT_SCHEMA = {"rank": pl.Int64, "terms": pl.Utf8, "appeals": pl.Int64, "baseline_appeals": pl.Int64,
                   "example_appeal_ids": pl.Utf8}


def contract_frame(found: Discovery) -> pl.DataFrame:
    """The `themes` command's rows (interfaces.md), strongest first."""
    rows = [{"rank": c.rank, "terms": c.terms, "appeals": c.appeals, "baseline_appeals": c.baseline_appeals,
             "example_appeal_ids": ",".join(c.example_appeal_ids)} for c in found.candidates]
    return pl.DataFrame(rows, schema=CONTRACT_SCHEMA, orient="row") if rows else pl.DataFrame(schema=CONTRACT_SCHEMA)


def detail_frame(found: Discovery) -> pl.DataFrame:
    """The candidates with what a lead needs to judge one: related terms, trend, queues, redacted notes."""
    schema = CONTRACT_SCHEMA | {"score": pl.Float64, "related_terms": pl.Utf8, "trend": pl.Utf8, "queues": pl.Utf8,
                                "example_notes": pl.Utf8}
    rows = []
    for c in found.candidates:
        rows.append({
            "rank": c.rank, "terms": c.terms, "appeals": c.appeals, "baseline_appeals": c.baseline_appeals,
            "example_appeal_ids": ",".join(c.example_appeal_ids), "score": c.score,
            "related_terms": ", ".join(c.related_terms),
            "trend": " ".join(f"W{w.isocalendar().week:02d}:{n}" for w, n in c.weekly.items()),
            "queues": ", ".join(f"{q} {n}" for q, n in c.queues.items()),
            "example_notes": " | ".join(c.examples),
        })
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)

"""`python -m metrics`: the headless interface of interfaces.md.

Exit status: 0 success; 2 bad arguments or unusable warehouse (one line, no traceback);
3 from `check` when a required table or column is missing; 1 anything else.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys

from metrics.periods import PERIODS
from metrics.warehouse import WarehouseError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2
        self.exit(2, f"error: {message}\n")


def _hours_arg(text: str) -> float:
    try:
        hours = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of hours, got {str(text)[:40]!r}") from None
    if not math.isfinite(hours) or hours <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of hours, got {str(text)[:40]!r}")
    return hours


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m metrics", description="Appeals operations metrics, headless.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def warehouse_args(sp):
        sp.add_argument("--warehouse", default=None, help="SQLAlchemy URL (default: the bundled sample)")
        sp.add_argument("--as-of", dest="as_of", default=None, help="ISO-8601 instant (default: latest event)")
        sp.add_argument("--adapter", default=None, choices=["zendesk"], help="map another schema onto the contract")
        sp.add_argument("--adapter-config", dest="adapter_config", default=None, help="the adapter's YAML config")

    def store_args(sp):
        group = sp.add_mutually_exclusive_group()
        group.add_argument("--store", default=None,
                           help="read this store (SQLAlchemy URL, ?schema=NAME), refreshing it first")
        group.add_argument("--no-store", dest="no_store", action="store_true",
                           help="compute from the warehouse alone")

    sp = sub.add_parser("facts", help="one row per appeal")
    warehouse_args(sp)
    store_args(sp)
    sp.add_argument("--out", required=True)
    sp.add_argument("--wide", action="store_true", help="add grouping and deadline columns beyond the contract")

    sp = sub.add_parser("spans", help="one row per stretch an appeal is open under one owner (backlog at any "
                                "instant: open_from < E <= open_to; specialist_id = owner then)")
    warehouse_args(sp)
    store_args(sp)
    sp.add_argument("--out", required=True)

    sp = sub.add_parser("report", help="metrics per period and group")
    warehouse_args(sp)
    store_args(sp)
    sp.add_argument("--by", default="none")
    sp.add_argument("--period", default="week", choices=PERIODS)
    sp.add_argument("--from", dest="date_from", default=None)
    sp.add_argument("--to", dest="date_to", default=None)
    sp.add_argument("--metrics", default=None)
    sp.add_argument("--tz", default="UTC")
    sp.add_argument("--engine", default="sql", choices=["sql", "polars"])
    sp.add_argument("--out", required=True)

    sp = sub.add_parser("check", help="data checks")
    warehouse_args(sp)
    store_args(sp)
    sp.add_argument("--out", default=None)
    sp.add_argument("--max-age-hours", dest="max_age_hours", type=_hours_arg,
                    default=os.environ.get("APPEALS_MAX_DATA_AGE_HOURS") or None,
                    help="flag the warehouse when its latest event is older than this (default: "
                         "APPEALS_MAX_DATA_AGE_HOURS, parsed the same way; unset: no freshness check)")

    sp = sub.add_parser("definitions", help="the metric catalog")
    sp.add_argument("--format", default="md", choices=["md", "json"])

    sp = sub.add_parser("sample", help="write a sample warehouse")
    sp.add_argument("--out", required=True)
    sp.add_argument("--appeals", type=int, default=None)
    sp.add_argument("--seed", type=int, default=None)
    sp.add_argument("--end-date", default=None, help="last day of the sample (YYYY-MM-DD)")
    sp.add_argument("--no-text", action="store_true", help="leave appeal_text and note empty")

    sp = sub.add_parser("wbr", help="weekly business review")
    warehouse_args(sp)
    store_args(sp)
    sp.add_argument("--week", required=True, help="ISO week, e.g. 2026-W46")
    sp.add_argument("--tz", default="UTC", help="IANA zone of the week's boundaries (default UTC)")
    sp.add_argument("--out", default=None)

    sp = sub.add_parser("digest", help="breached and soon-breaching appeals by queue, queues below the SLA target "
                        "(for a scheduler; optionally posted to a Slack-compatible webhook)")
    warehouse_args(sp)
    store_args(sp)
    sp.add_argument("--hours", type=_hours_arg, default=24.0, help="'due soon' window in hours (default 24)")
    sp.add_argument("--period", default="week", choices=PERIODS,
                    help="the period (to date) whose SLA attainment is compared with the target (default week)")
    sp.add_argument("--tz", default="UTC", help="IANA zone of the period boundaries (default UTC)")
    sp.add_argument("--queue", action="append", default=None, help="only this queue (repeatable)")
    sp.add_argument("--pseudonymise", action="store_true",
                    help="owners as stable pseudonyms (salt: APPEALS_PSEUDONYM_SALT, as on the dashboard)")
    sp.add_argument("--webhook", default=os.environ.get("APPEALS_DIGEST_WEBHOOK_URL") or None,
                    help="also POST it as Slack-compatible JSON here (default: APPEALS_DIGEST_WEBHOOK_URL)")
    sp.add_argument("--no-post", dest="no_post", action="store_true", help="do not post even when a webhook is set")
    sp.add_argument("--out", required=True, help="FILE.md, FILE.html, or - (Markdown on standard output)")

    sp = sub.add_parser("refresh", help="build or update the store the app and CLI read")
    sp.add_argument("--warehouse", default=None, help="SQLAlchemy URL (default: the bundled sample)")
    sp.add_argument("--adapter", default=None, choices=["zendesk"], help="map another schema onto the contract")
    sp.add_argument("--adapter-config", dest="adapter_config", default=None, help="the adapter's YAML config")
    sp.add_argument("--store", default=None, help="SQLAlchemy URL of the store (?schema=NAME); default: the "
                    "product's own DuckDB file for this warehouse")
    sp.add_argument("--full", action="store_true", help="rebuild from scratch")
    sp.add_argument("--quiet", action="store_true", help="only the last line")

    sp = sub.add_parser("transparency", help="complaint-handling figures (DSA Art. 15, P2B Art. 11) for a period")
    warehouse_args(sp)
    sp.add_argument("--from", dest="date_from", required=True)
    sp.add_argument("--to", dest="date_to", required=True)
    sp.add_argument("--tz", default="UTC")
    sp.add_argument("--out", default=None, help="a .json file (default: standard output)")

    sp = sub.add_parser("themes", help="candidate new root-cause themes from unclassified overturns' notes")
    warehouse_args(sp)
    sp.add_argument("--from", dest="date_from", required=True)
    sp.add_argument("--to", dest="date_to", required=True)
    sp.add_argument("--baseline-from", dest="baseline_from", default=None)
    sp.add_argument("--baseline-to", dest="baseline_to", default=None)
    sp.add_argument("--all-overturns", dest="all_overturns", action="store_true",
                    help="read the notes of every overturn, not only the unclassified ones")
    sp.add_argument("--tz", default="UTC")
    sp.add_argument("--out", default="-")

    sp = sub.add_parser("import-log", help="import a case event log into a contract warehouse")
    sp.add_argument("--events", required=True)
    sp.add_argument("--mapping", required=True, help="a YAML (.yml) or SQL (.sql) mapping; see mappings/README.md")
    sp.add_argument("--out", required=True)
    sp.add_argument("--max-unmatched", dest="max_unmatched", default=None,
                    help="rows that may match no rule: a count (0) or a share (1%%); default: the mapping's, else 10%%")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from metrics.refresh import RefreshError
    url = getattr(args, "warehouse", None)

    def say(message: str) -> None:  # one line, with no secret of the warehouse URL in it
        from metrics.redact import redact_text

        lines = str(message).strip().splitlines()
        print(f"error: {redact_text(lines[0] if lines else message, url)}", file=sys.stderr)

    try:
        return _run(args)
    except RefreshError as exc:
        say(f"refresh failed: {exc}")
        return 1
    except WarehouseError as exc:
        code = 3 if args.command == "check" and _is_contract_error(exc) else 2
        say(str(exc))
        return code
    except ValueError as exc:
        say(str(exc))
        return 2
    except BrokenPipeError:
        return 0
    except OSError as exc:
        out = getattr(args, "out", None)
        if out and out != "-" and exc.filename and str(out).startswith(str(exc.filename)):
            say(f"--out: cannot write {out}: {exc.strerror or exc}")
            return 2
        say(f"{type(exc).__name__}: {exc}")
        return 1
    except Exception as exc:  # noqa: BLE001 - last resort: still one line
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        if args.command == "check" and _is_database_error(exc):
            # the warehouse answered but cannot read a column as its contract type
            say(f"a table or column cannot be read as the contract says: {first}")
            return 3
        if _is_database_error(exc):  # connection lost, corrupt file, a value the driver cannot read
            from metrics.faults import one_line

            say(one_line(exc, url))
            return 2
        say(f"{type(exc).__name__}: {first}")
        return 1


def _is_database_error(exc: BaseException) -> bool:
    import duckdb
    import sqlalchemy

    return isinstance(exc, sqlalchemy.exc.DBAPIError | duckdb.Error)


def _is_contract_error(exc: WarehouseError) -> bool:
    return "required" in str(exc)


def _warehouse(args):
    """The --warehouse URL, opened through --adapter when one is given."""
    if getattr(args, "adapter", None):
        from metrics.adapters import open_adapted

        if not args.adapter_config:
            raise WarehouseError("--adapter-config: required with --adapter")
        if not args.warehouse:
            raise WarehouseError("--warehouse: required with --adapter (the sample needs no adapter)")
        return open_adapted(args.adapter, args.warehouse, args.adapter_config)
    if getattr(args, "adapter_config", None):
        raise WarehouseError("--adapter: required with --adapter-config")
    return args.warehouse


def _wrote(out: str, rows: int | None, what: str) -> None:
    """What a command wrote to its --out file, as `refresh` ends with its line (with `--out -`
    standard output is the data itself: nothing is added)."""
    if out == "-":
        return
    count = f"{rows:,} " if rows is not None else ""
    print(f"wrote {count}{what} to {out}")


def _run(args) -> int:
    from metrics import api
    from metrics.output import write_frame

    if hasattr(args, "warehouse"):
        args.warehouse = _warehouse(args)
    if hasattr(args, "no_store") and args.command not in ("check", "wbr"):
        # the store when there is one (refreshed first), else the warehouse: same output
        from metrics import refresh

        notes: list[str] = []
        args.warehouse = refresh.source(args.warehouse, args.store, args.no_store, args.as_of, notes)
        for note in notes:
            print(f"note: {note}", file=sys.stderr)
    elif args.command == "check" and not args.no_store:
        from metrics import refresh
        from metrics.store import StoreWarehouse

        # the checks read the raw rows on the warehouse, except the per-appeal ones, read from
        # the hits the store keeps (refreshed first) when it holds this as-of; a store that
        # cannot be refreshed leaves every check on the warehouse (which names what is wrong)
        try:
            src = refresh.source(args.warehouse, args.store, False, args.as_of)
        except refresh.RefreshError as exc:
            print(f"note: the store was not used: {exc}", file=sys.stderr)
            src = None
        args.kept = src if isinstance(src, StoreWarehouse) else None
    elif args.command == "wbr" and args.store:
        from metrics import refresh

        # the review computes as of its week's end: the warehouse
        refresh.refresh(args.warehouse, args.store)

    if args.command == "facts":
        n = api.write_facts(args.warehouse, args.out, args.as_of, wide=args.wide)
        _wrote(args.out, n, "appeals")
    elif args.command == "spans":
        write_frame(api.status_spans(args.warehouse, args.as_of), args.out)
    elif args.command == "report":
        frame = api.report(args.warehouse, by=args.by, period=args.period, date_from=args.date_from,
                           date_to=args.date_to, metrics=args.metrics, tz=args.tz, as_of=args.as_of,
                           engine=args.engine)
        write_frame(frame, args.out)
    elif args.command == "check":
        results = api.check(args.warehouse, args.as_of, max_age_hours=args.max_age_hours,
                            kept=getattr(args, "kept", None))
        for r in results:
            print(f"{r.name}\t{r.count}\t{', '.join(r.examples)}")
        if not results:
            print("all checks passed")
        if args.out:
            import polars as pl

            frame = pl.DataFrame(
                [{"check": r.name, "kind": r.kind, "count": r.count, "examples": ", ".join(r.examples),
                  "effect": r.effect} for r in results],
                schema={"check": pl.Utf8, "kind": pl.Utf8, "count": pl.Int64, "examples": pl.Utf8, "effect": pl.Utf8},
            )
            write_frame(frame, args.out)
    elif args.command == "definitions":
        from metrics import definitions

        print(json.dumps(definitions.as_json(), indent=2) if args.format == "json" else definitions.as_markdown())
    elif args.command == "sample":
        from metrics import sample

        kwargs = {}
        if args.appeals is not None:
            kwargs["n_appeals"] = args.appeals
        if args.seed is not None:
            kwargs["seed"] = args.seed
        if args.end_date:
            from datetime import date

            try:
                kwargs["end_date"] = date.fromisoformat(args.end_date)
            except ValueError:
                raise WarehouseError(f"--end-date: not an ISO date (YYYY-MM-DD): {args.end_date!r}") from None
        if args.no_text:
            kwargs["with_text"] = False
        counts = sample.write_sample(args.out, **kwargs)
        for table, n in counts.items():
            print(f"{table}\t{n}")
    elif args.command == "wbr":
        from metrics import wbr

        text = wbr.render(args.warehouse, args.week, args.out, tz=args.tz)
        if not args.out or args.out == "-":
            print(text)
        else:
            _wrote(args.out, None, f"the review of {args.week}")
    elif args.command == "digest":
        from metrics import dashboard, digest

        digest.check_out(args.out)
        salt = None
        if args.pseudonymise:
            salt = os.environ.get("APPEALS_PSEUDONYM_SALT")
            problem = dashboard.salt_problem(salt)
            if problem:
                raise WarehouseError(f"--pseudonymise: {problem}")
        found = digest.build(args.warehouse, hours=args.hours, as_of=args.as_of, tz=args.tz, period=args.period,
                             filters={"queue": args.queue} if args.queue else None, salt=salt)
        text = digest.write(found, args.out)
        if args.out == "-":
            sys.stdout.write(text)
        else:
            _wrote(args.out, None, f"the digest ({digest.summary(found)})")
        if args.webhook and not args.no_post:
            try:
                status = digest.post(found, args.webhook)
            except ConnectionError as exc:  # the file is written; the post failed: one line, exit 1
                print(f"error: {exc}", file=sys.stderr)
                return 1
            print(f"posted to {digest.webhook_label(args.webhook)} (HTTP {status})", file=sys.stderr)
    elif args.command == "refresh":
        from metrics import refresh

        def progress(fraction: float, message: str) -> None:
            if not args.quiet:
                print(f"[{fraction:4.0%}] {message}", file=sys.stderr, flush=True)

        result = refresh.refresh(args.warehouse, args.store, full=args.full, progress=progress)
        if result.note:
            print(f"note: {result.note}", file=sys.stderr)
        if not args.quiet:
            print(f"{result.reason} ({result.seconds:.1f} s)", file=sys.stderr)
        print(result.line())
    elif args.command == "transparency":
        from metrics import transparency

        result = transparency.figures(args.warehouse, args.date_from, args.date_to, as_of=args.as_of, tz=args.tz)
        text = transparency.write(result, args.out)
        if not args.out or args.out == "-":
            print(text)
    elif args.command == "themes":
        from metrics import discovery

        found = discovery.discover(args.warehouse, args.date_from, args.date_to, args.baseline_from,
                                   args.baseline_to, as_of=args.as_of, tz=args.tz,
                                   unclassified_only=not args.all_overturns)
        write_frame(discovery.contract_frame(found), args.out)
    elif args.command == "import-log":
        from metrics import importlog

        result = importlog.import_log(args.events, args.mapping, args.out, max_unmatched=args.max_unmatched)
        print(f"cases\t{result.cases}")
        print(f"source_rows\t{result.source_rows}")
        print(f"used_rows\t{result.used_rows}")
        print(f"unmatched_rows\t{result.unmatched_rows}\t(allowed {result.max_unmatched})")
        for reason, n in result.skipped.items():
            print(f"skipped:{reason}\t{n}\t{', '.join(result.examples.get(reason, []))}")
        for text in result.unmatched_examples:
            print(f"unmatched\t{text}")
        for value, n in sorted(result.unlisted_outcomes.items()):
            print(f"outcome_value_not_listed\t{value}\t{n}")
        for table, n in result.tables.items():
            print(f"{table}\t{n}")
    return 0

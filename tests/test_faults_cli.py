"""Issue 14 on the headless side: secrets never printed, exit codes per interfaces.md for
absurd arguments, and work bounded whatever range a user types. Run in-process through
`metrics.cli.main` (the same code `python -m metrics` runs), output captured."""

from __future__ import annotations

from datetime import date

import pytest

from metrics import cli
from metrics.redact import redact_text, redact_url
from tests.helpers import make_warehouse

# Two appeals by hand: a1 created Mon 2 Mar 2026 10:00, decided Tue 3 Mar 09:00; a2 created
# Mon 9 Mar 08:00 and still open. Weekly periods: 2 Mar, 9 Mar (as_of = 9 Mar 08:00).
ROWS = {
    "appeals": [
        {"appeal_id": "a1", "queue": "q1", "priority": "P1", "created_at": "2026-03-02T10:00:00"},
        {"appeal_id": "a2", "queue": "q1", "priority": "P1", "created_at": "2026-03-09T08:00:00"},
    ],
    "appeal_events": [
        {"event_id": "e1", "appeal_id": "a1", "occurred_at": "2026-03-03T09:00:00", "event_type": "decided",
         "actor_type": "specialist", "actor_id": "s1", "outcome": "upheld"},
    ],
}


@pytest.fixture(scope="module")
def wh_url(tmp_path_factory):
    return make_warehouse(tmp_path_factory.mktemp("faults_cli"), ROWS)


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("url, shown", [
    ("postgresql+psycopg://analyst:s3cret@db.internal/appeals", "postgresql+psycopg://analyst:***@db.internal/appeals"),
    ("postgresql+psycopg://analyst@db.internal/appeals?password=s3cret",
     "postgresql+psycopg://analyst@db.internal/appeals?password=***"),
    ("postgresql+psycopg://analyst@db.internal/appeals?sslpassword=s3cret&application_name=dash",
     "postgresql+psycopg://analyst@db.internal/appeals?application_name=dash&sslpassword=***"),
    ("duckdb:///md:appeals?motherduck_token=s3cret", "duckdb:///md%3Aappeals?motherduck_token=***"),
    ("snowflake://analyst@acct/db?private_key_passphrase=s3cret&PWD=s3cret",
     "snowflake://analyst@acct/db?PWD=***&private_key_passphrase=***"),
    ("mssql+pyodbc://analyst@dsn?Pwd=s3cret&api_key=s3cret&secret=s3cret",
     "mssql+pyodbc://analyst@dsn?Pwd=***&api_key=***&secret=***"),
    ("not a url s3cret", "<not a SQLAlchemy URL>"),
    ("duckdb:////srv/appeals/my warehouse.duckdb", "duckdb:////srv/appeals/my warehouse.duckdb"),  # no secret: as written
])
def test_every_password_form_is_masked(url, shown):
    assert redact_url(url) == shown
    assert "s3cret" not in redact_url(url)


def test_secrets_scrubbed_from_any_message_raw_or_url_encoded():
    url = "postgresql+psycopg://analyst@db/appeals?password=p%40ss%2Fw0rd"
    message = f"driver said: bad password 'p@ss/w0rd' for {url} (p%40ss%2Fw0rd)"
    assert redact_text(message, url) == (
        "driver said: bad password '***' for postgresql+psycopg://analyst@db/appeals?password=*** (***)")


def test_cli_never_prints_a_query_password(capsys):
    url = "postgresql+psycopg://analyst@127.0.0.1:1/appeals?password=s3cret"  # port 1: refused
    code, out, err = run(capsys, "facts", "--warehouse", url, "--out", "-")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "s3cret" not in err
    assert "postgresql+psycopg://analyst@127.0.0.1:1/appeals?password=***" in err


def test_ten_thousand_character_tz_is_a_bad_argument(capsys, wh_url):
    code, _, err = run(capsys, "report", "--warehouse", wh_url, "--by", "none", "--tz", "A" * 10_000, "--out", "-")
    assert code == 2 and err.count("\n") == 1 and len(err) < 200
    assert err.startswith("error: --tz: unknown IANA time zone") and "(10,000 characters)" in err


@pytest.mark.parametrize("week", ["9999-W52", "0001-W01", "1989-W52"])
def test_wbr_week_outside_the_sane_years_is_a_bad_argument(capsys, wh_url, week):
    code, _, err = run(capsys, "wbr", "--warehouse", wh_url, "--week", week)
    assert code == 2 and err == f"error: --week: {week} is outside the years this product reads (1990–2099)\n"


def test_report_from_year_one_by_day_is_refused_at_once(capsys, wh_url):
    # 0001-01-01 is proleptic day 1 and 2026-03-09 (as_of) day 739,684: 739,684 daily periods, cap 3,660
    code, out, err = run(capsys, "report", "--warehouse", wh_url, "--by", "none", "--from", "0001-01-01",
                         "--period", "day", "--out", "-")
    assert code == 2 and out == ""
    assert err == ("error: --from: 0001-01-01 to 2026-03-09 is 739,684 days; a report covers at most 3,660 "
                   "— pick a later --from or a longer --period\n")


def test_an_early_from_adds_no_work_and_no_rows(wh_url):
    """--from before the first appeal: the backlog periods still start at the first appeal's
    period, so the query is the same size (same binds) and the result is identical."""
    from metrics import api, engine_sql

    wh = api.open_warehouse(wh_url)
    early = api.plan_report(wh, by=None, period="week", date_from="2010-01-04", metrics=["backlog_open"])
    none = api.plan_report(wh, by=None, period="week", metrics=["backlog_open"])
    sql_early, params_early = engine_sql.compile_report(wh, early)
    sql_none, params_none = engine_sql.compile_report(wh, none)
    # 2 weekly periods (2 Mar, 9 Mar) → period_0, period_end_0, period_1, period_end_1
    assert sorted(k for k in params_early if k.startswith("period_") and k[-1].isdigit()) == \
        ["period_0", "period_1", "period_end_0", "period_end_1"]
    assert len(sql_early) == len(sql_none)
    got = api.report(wh, by=None, period="week", date_from="2010-01-04", metrics=["backlog_open"])
    # week of 2 Mar ends 9 Mar 00:00: a1 was decided 3 Mar, a2 not yet created → no open appeal,
    # no row; week of 9 Mar ends at as_of (9 Mar 08:00): a2 open → 1
    assert got.to_dicts() == [{"period_start": date(2026, 3, 9), "backlog_open": 1}]


@pytest.mark.parametrize("argv, line", [
    (["report", "--by", "none", "--as-of", "9999-12-31", "--out", "-"],
     "error: --as-of: 9999-12-31 is outside the years this product reads (1990–2099)\n"),
    (["facts", "--as-of", "0001-01-01", "--out", "-"],
     "error: --as-of: 0001-01-01 is outside the years this product reads (1990–2099)\n"),
    (["report", "--by", "none", "--from", "1900-01-01", "--period", "month", "--out", "-"],
     # Jan 1900 .. Mar 2026 = 126 years × 12 + 3 months = 1,515 monthly periods, cap 600
     "error: --from: 1900-01-01 to 2026-03-01 is 1,515 months; a report covers at most 600 — pick a later "
     "--from or a longer --period\n"),
    (["report", "--by", "none", "--out", "/proc/no-such-dir/r.csv"],
     "error: --out: cannot write /proc/no-such-dir/r.csv: No such file or directory\n"),
])
def test_unreadable_arguments_exit_2_with_one_line(capsys, wh_url, argv, line):
    code, out, err = run(capsys, *argv[:1], "--warehouse", wh_url, *argv[1:])
    assert (code, out, err) == (2, "", line)

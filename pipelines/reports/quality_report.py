"""The auditor's quality report of a period (rules.md, "Findings and edit reports"): one static HTML page
(inline CSS, no network) written to <reports>/quality/<period>.html with

- submission status by enterprise (versions, current status, quality score),
- late and missing filings (marts.fct_filing_timeliness),
- rule hit rates (marts.fct_rule_hit_rates, titles from the rule catalog),
- resubmission history (every status event of enterprises that filed more than one version),
- acknowledged warnings with their reasons (intake.acknowledgements),
- a relative link to the Great Expectations Data Docs (<reports>/gx_docs/index.html) when they are built.

Read from the published snapshot; a section whose table is not there says so instead of failing. The hit-rate
chart is the auditor's portal chart (pipelines/reports/charts.py `rule_hit_rates`: same query, same spec),
drawn by the vega scripts copied into <reports>/assets/ (pipelines/reports/chart_scripts.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from pathlib import Path

import duckdb
import polars as pl

import pipelines.reports.charts as charts
from pipelines.quality.catalog import load_catalog
from pipelines.reports.chart_scripts import installed_scripts, script_tags, write_report_scripts
from pipelines.reports.supervision_report import CSS, _q, _tables, html_table

GX_DOCS = Path("..") / "gx_docs" / "index.html"  # relative to <reports>/quality/<period>.html


class QualityReport:
    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        period: str,
        reports_dir: Path | None = None,
        *,
        as_of: datetime | None = None,
        scripts: list[str] | None = None,
    ):
        self.scripts = installed_scripts() if scripts is None else scripts
        self.as_of = as_of  # the cycle's clock (never the wall clock: two runs give the same bytes)
        self.con = con
        self.period = period
        self.reports_dir = reports_dir
        self.marts = _tables(con, "marts")
        self.intake = _tables(con, "intake")

    def _missing(self, what: str) -> str:
        return f"<p class='muted'>{escape(what)} is not in this snapshot (run the cycle with marts).</p>"

    def status_by_enterprise(self) -> str:
        score = (
            "left join marts.fct_submission_quality q on q.submission_id = c.submission_id"
            if "fct_submission_quality" in self.marts
            else "left join (select null::varchar as submission_id, null::double as quality_score) q "
            "on q.submission_id = c.submission_id"
        )
        df = _q(
            self.con,
            f"""with s as (
                select enterprise_id, ent_type, count(*) as versions,
                    arg_max(submission_id, version) as latest_submission,
                    arg_max(status, version) as latest_status,
                    max(submission_id) filter (where status in ('ACCEPTED', 'ACCEPTED_WITH_WARNINGS'))
                        as current_submission
                from intake.submissions where period = ? group by all
            ),
            c as (select *, coalesce(current_submission, latest_submission) as submission_id from s)
            select c.enterprise_id, c.ent_type, c.versions, c.latest_status, c.current_submission,
                q.quality_score
            from c {score}
            order by c.enterprise_id""",
            [self.period],
        )
        counts = _q(
            self.con,
            "select status, count(*) as submissions from intake.submissions where period = ? group by 1 order by 1",
            [self.period],
        )
        return "<h2 id='status'>Submission status by enterprise</h2>" + html_table(counts) + html_table(df)

    def late_and_missing(self) -> str:
        head = "<h2 id='timeliness'>Late and missing filings</h2>"
        if "fct_filing_timeliness" not in self.marts:
            return head + self._missing("marts.fct_filing_timeliness")
        df = _q(
            self.con,
            """select enterprise_id, ent_type, timeliness_status, days_late, versions_received,
                first_accepted_submission_id, strftime(due_at, '%Y-%m-%d %H:%M:%S UTC') as due
            from marts.fct_filing_timeliness
            where period = ? and timeliness_status in ('late', 'missing', 'pending') and days_late > 0
               or period = ? and timeliness_status = 'missing'
            order by timeliness_status, days_late desc, enterprise_id""",
            [self.period, self.period],
        )
        return head + (html_table(df) if df.height else "<p>Every expected filing was on time.</p>")

    def rule_hit_rates(self) -> str:
        head = "<h2 id='rules'>Rule hit rates</h2>"
        if "fct_rule_hit_rates" not in self.marts:
            return head + self._missing("marts.fct_rule_hit_rates")
        df = _q(
            self.con,
            """select rule_id, stage, sum(submissions_evaluated) as evaluated,
                sum(submissions_with_findings) as with_findings,
                sum(submissions_with_findings) / nullif(sum(submissions_evaluated), 0) as hit_rate,
                sum(findings_total) as findings, sum(submissions_skipped) as skipped
            from marts.fct_rule_hit_rates where period = ? group by all order by rule_id""",
            [self.period],
        )
        if df.is_empty():
            return head + "<p class='muted'>No rule results for this period.</p>"
        catalog = load_catalog()
        df = df.with_columns(
            severity=pl.col("rule_id").map_elements(
                lambda r: catalog[r].severity if r in catalog else None, return_dtype=pl.String
            ),
            title=pl.col("rule_id").map_elements(
                lambda r: catalog[r].title if r in catalog else "", return_dtype=pl.String
            ),
        ).select(
            "rule_id",
            "stage",
            "severity",
            "title",
            "evaluated",
            "with_findings",
            "hit_rate",
            "findings",
            "skipped",
        )
        # the auditor's portal home shows the same chart for the same period
        spec = charts.rule_hit_rates(self.con, self.period)
        chart = charts.chart_div(spec) if spec else "<p>No rule found anything this period.</p>"
        return head + chart + html_table(df)

    def resubmissions(self) -> str:
        head = "<h2 id='resubmissions'>Resubmission history</h2>"
        df = _q(
            self.con,
            """with multi as (
                select enterprise_id from intake.submissions where period = ?
                group by enterprise_id having count(*) > 1
            )
            select s.enterprise_id, e.submission_id, s.version, e.status,
                strftime(e.event_at, '%Y-%m-%d %H:%M:%S UTC') as at, e.reason
            from intake.submission_events e join intake.submissions s using (submission_id)
            where s.period = ? and s.enterprise_id in (select enterprise_id from multi)
            order by s.enterprise_id, e.event_at, e.event_id""",
            [self.period, self.period],
        )
        drift = _q(
            self.con,
            """select f.submission_id, f.record_key as control_total, f.message
            from quality.findings f join intake.submissions s using (submission_id)
            where s.period = ? and f.rule_id = 'M008' order by 1, 2""",
            [self.period],
        )
        body = html_table(df) if df.height else "<p>No enterprise filed more than one version.</p>"
        if drift.height:
            body += "<h3>Control totals moved by a resubmission (M008, X-16)</h3>" + html_table(drift)
        return head + body

    def acknowledged(self) -> str:
        head = "<h2 id='acknowledged'>Acknowledged warnings</h2>"
        if "acknowledgements" not in self.intake:
            return head + self._missing("intake.acknowledgements")
        df = _q(
            self.con,
            """select a.submission_id, a.rule_id, a.reason, a.acknowledged_by,
                strftime(a.acknowledged_at, '%Y-%m-%d %H:%M:%S UTC') as acknowledged_at
            from intake.acknowledgements a join intake.submissions s using (submission_id)
            where s.period = ? order by 1, 2""",
            [self.period],
        )
        open_ = _q(
            self.con,
            """select f.submission_id, f.rule_id, count(*) as findings
            from quality.findings f join intake.submissions s using (submission_id)
            where s.period = ? and f.severity = 'warning' and not f.shadow
              and s.status = 'ACCEPTED_WITH_WARNINGS'
              and not exists (select 1 from intake.acknowledgements a
                              where a.submission_id = f.submission_id and a.rule_id = f.rule_id)
            group by all order by 1, 2""",
            [self.period],
        )
        body = html_table(df) if df.height else "<p>No warning was acknowledged for this period.</p>"
        if open_.height:
            body += "<h3>Warnings not yet acknowledged</h3>" + html_table(open_)
        return head + body

    def data_docs(self) -> str:
        head = "<h2 id='gx'>Great Expectations validation results</h2>"
        built = self.reports_dir is not None and (self.reports_dir / "gx_docs" / "index.html").exists()
        if not built:
            return (
                head
                + "<p class='muted'>The Data Docs are not built (run <code>suptech report quality</code> "
                "with <code>--gx-docs</code>).</p>"
            )
        return head + f"<p><a href='{GX_DOCS.as_posix()}'>Open the Data Docs</a> (offline copy).</p>"

    def render(self) -> str:
        stamp = (
            f"the cycle of {self.as_of.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if self.as_of else "the warehouse"
        )
        nav = "".join(
            f"<a href='#{a}'>{t}</a>"
            for a, t in (
                ("status", "Status"),
                ("timeliness", "Late and missing"),
                ("rules", "Rule hit rates"),
                ("resubmissions", "Resubmissions"),
                ("acknowledged", "Acknowledged"),
                ("gx", "GX"),
            )
        )
        sections = [
            self.status_by_enterprise(),
            self.late_and_missing(),
            self.rule_hit_rates(),
            self.resubmissions(),
            self.acknowledged(),
            self.data_docs(),
        ]
        return (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>Filing quality report {escape(self.period)}</title><style>{CSS}</style></head><body>"
            f"<h1>Filing quality report — {escape(self.period)}</h1>"
            f"<p class='muted'>Generated for {stamp} from the published snapshot.</p><nav>{nav}</nav>"
            + "".join(sections)
            + script_tags(self.scripts)
            + "</body></html>"
        )


def write_quality_report(
    con: duckdb.DuckDBPyConnection, reports_dir: Path, period: str, *, as_of: datetime | None = None
) -> Path:
    """Write <reports_dir>/quality/<period>.html (atomically) and return its path; `as_of` is the cycle's
    clock the page names (none: no time on the page)."""
    target = reports_dir / "quality" / f"{period}.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    scripts = write_report_scripts(reports_dir)
    page = QualityReport(con, period, reports_dir, as_of=as_of, scripts=scripts).render()
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(target)
    return target

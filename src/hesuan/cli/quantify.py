"""``hesuan quantify``: a sink project's plots → one quantification report per period."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from hesuan.cli._console import console, err_console
from hesuan.errors import InputError

if TYPE_CHECKING:
    from hesuan.io.outputs import OutputSet


def quantify(
    project: Path | None = typer.Argument(None, help="Project file (.toml)."),
    out: Path | None = typer.Option(None, "--out", help="Output folder for the reports."),
    check: Path | None = typer.Option(None, "--check", help="A report to re-run and check."),
    project_file: Path | None = typer.Option(None, "--project",
                                             help="With --check: the project file (default: "
                                             "found beside the report)."),
    html: bool = typer.Option(True, "--html/--no-html", help="Also write the HTML reports."),
    pdf: bool = typer.Option(False, "--pdf", help="Also print each HTML report to PDF "
                             "(needs Chromium)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an earlier run's "
                                   "reports in --out (the whole set, per its manifest)."),
) -> None:
    """Quantify a sink project under its methodology: one sealed report per monitoring period.

    Runs the methodology of the project file (CCER-14-001-V01, or AR-ACM0003 with AR-TOOL14):
    applicability, strata, tree and shrub stocks, removals, uncertainty deduction, net
    creditable units per vintage; writes one JSON report (and HTML) per monitoring period.

    Example: hesuan quantify src/hesuan/examples/quantification/project.toml --out q/

    Check:   hesuan quantify --check q/quantification_2025-12-31.json (re-runs from the
    report's inputs; exit 0 only if every number is reproduced)
    """
    from hesuan.quantification import check_report
    from hesuan.quantification import quantify as run

    if check is not None:
        report = check_report(check, project_file)
        result = {"ok": True, "report": str(check), "report_sha256": report.report_sha256,
                  "net_creditable_units": report.removals.net_creditable_units}
        if as_json:
            typer.echo(json.dumps(result, indent=1))
        else:
            console.print(f"[green]ok[/green]: {check} reproduces exactly "
                          f"(report {report.report_sha256[:16]}…, "
                          f"{report.removals.net_creditable_units} units)")
        return
    if project is None or out is None:
        raise InputError.single("give a project file and --out (or --check REPORT)",
                                expected="hesuan quantify PROJECT.toml --out DIR")
    from hesuan.io.outputs import OutputSet

    # --out is checked before any work; the reports are published together, or none
    with OutputSet("quantify", directory=out, overwrite=overwrite,
                   label=f"--out {out}") as outs:
        with err_console.status("quantifying…", spinner="dots") if not as_json else _null():
            reports = run(project)
        written = write_outputs(outs, reports, html=html or pdf, pdf=pdf)
    rows = [{"period_start": r.period_start, "period_end": r.period_end,
             "net_creditable_units": r.removals.net_creditable_units,
             "uncertainty_deduction_t_co2e": r.removals.uncertainty_deduction_t_co2e,
             "report_sha256": r.report_sha256} for r in reports]
    if as_json:
        typer.echo(json.dumps({"methodology": reports[0].methodology_key, "periods": rows,
                               "files": [str(p) for p in written]}, indent=1))
        return
    from rich.table import Table

    table = Table(title=f"{reports[0].project['name']} — {reports[0].methodology_key}")
    for col in ("period", "net creditable units", "uncertainty deduction t CO2e", "report"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(f"{r['period_start']} – {r['period_end']}",
                      str(r["net_creditable_units"]),
                      f"{r['uncertainty_deduction_t_co2e']:,.1f}",
                      str(r["report_sha256"])[:16] + "…")
    console.print(table)
    for p in written:
        console.print(f"wrote {p}")


class _null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def write_outputs(outs: OutputSet, reports: list, *, html: bool = True,
                  pdf: bool = False) -> list[Path]:
    """Write each report (and its HTML, and its PDF) to its temporary name in ``outs``.

    ``outs`` is a run directory; the files are published when ``outs`` is. Returns the final
    paths.
    """
    from hesuan.quantification.report import to_json
    from hesuan.report.quantification import write_pdf, write_report

    written: list[Path] = []
    for r in reports:
        name = f"quantification_{r.period_end}"
        report = outs.file(f"{name}.json", "json")
        report.tmp.write_text(to_json(r), encoding="utf-8")
        written.append(report.path)
        if html:
            page = outs.file(f"{name}.html", "html")
            write_report(r, page.tmp)
            written.append(page.path)
            if pdf:
                printed = outs.file(f"{name}.pdf", "pdf")
                write_pdf(page.tmp, printed.tmp)
                written.append(printed.path)
    return written


def print_trace(tr: dict) -> None:
    """Print the trail of ``hesuan registry trace``, top (the unit) to bottom (the plots)."""
    from rich.markup import escape as e_
    from rich.tree import Tree

    u, iss, rep = tr["unit"], tr["issuance"], tr["monitoring_report"]
    root = Tree(f"[bold]serial {u['serial']}[/bold] in block {u['block']} — {u['status']}, "
                f"held in account {u['account_id']} ({u['holder_name']})")
    if u.get("retirement"):
        r = u["retirement"]
        root.add(f"retired for [bold]{e_(r['beneficiary'])}[/bold] ({r['purpose']}): "
                 f"{e_(r['statement'])}")
    root.add(f"issuance {iss['issuance_id']}: vintage {iss['vintage']}, {iss['quantity']} units;"
             f" buffer {iss['buffer']} ({iss['buffer_pct']} %), share of proceeds "
             f"{iss['share_of_proceeds']}, overall mitigation {iss['overall_mitigation']}, "
             f"forwarded {iss['forwarded']}")
    node = root.add(f"monitoring report {rep['report_id']} ({rep['period_start']} – "
                    f"{rep['period_end']}): reported {rep['reported_quantity']}, verified "
                    f"{rep['verified_quantity']} — project {tr['project']['name']} under "
                    f"{tr['project']['methodology']}")
    att = tr.get("attestation")
    if att:
        node.add(f"attested by {att['verifier']} (Ed25519 key {att['public_key'][:16]}…): "
                 f"signature {'verifies' if att['signature_verifies'] else 'DOES NOT VERIFY'}; "
                 f"{att['verified_units']} units of report {att['report_sha256'][:16]}…")
    q = tr.get("quantification")
    if q:
        qn = node.add(f"quantification report {q['report_sha256'][:16]}… under "
                      f"{q['methodology']} ({', '.join(q['tools'])}), period "
                      f"{q['period_start']} – {q['period_end']}; every value verified against "
                      f"its primary source: {'yes' if q['verified'] else 'no'}")
        for item in tr["trail"]:
            value = item["value"]
            text = f"{value:,.2f}" if isinstance(value, float) else str(value)
            n = qn.add(f"{e_(item['number'])}: [bold]{text}[/bold]")
            for st in item.get("steps", []):
                flag = "" if st["verified"] else " [yellow](not verified)[/yellow]"
                n.add(f"step {e_(st['name'])} — {e_(st['clause'])}{flag}; runs "
                      f"{st['function']}")
            if "rule" in item:
                n.add(f"rule: {e_(item['rule'])}")
            for d in item.get("datasets", []):
                flag = "" if d["verified"] else " [yellow](not verified)[/yellow]"
                n.add(f"dataset {d['key']} ({d['table']}, SHA-256 {d['sha256'][:12]}…): "
                      f"records {', '.join(d['records'])}{flag}")
            for f in item.get("inputs", []):
                n.add(f"{e_(f['role'])}: {e_(f['path'])} (SHA-256 {f['sha256'][:16]}…)")
    console.print(root)


def run_demo(out: Path) -> list[Path]:
    """Run the whole chain on the bundled example plots.

    Quantify → submit → verify (signed) → issue with the buffer → transfer → retire → statement →
    trace. Writes ``out/quantification/`` (reports, HTML, the verifier's key and attestation, a
    fresh SQLite registry, ``chain.json`` and ``trace.json``); returns the paths written.
    """
    from hesuan.examples import path as example_path
    from hesuan.quantification import quantify as run
    from hesuan.quantification.attestation import attest, write_key
    from hesuan.registry.engine import Registry

    folder = out / "quantification"
    folder.mkdir(parents=True, exist_ok=True)
    for stale in (*folder.glob("registry.db*"), folder / "verifier.key"):
        stale.unlink(missing_ok=True)
    project_file = example_path("quantification", "project.toml")
    reports = run(project_file)
    from hesuan.io.outputs import OutputSet

    with OutputSet("quantify", directory=folder, overwrite=True) as outs:
        written = write_outputs(outs, reports)
    report = reports[-1]
    report_file = folder / f"quantification_{report.period_end}.json"
    console.print(f"  quantified {report.methodology_key}: {len(reports)} monitoring periods; "
                  f"{report.period_start} – {report.period_end}: "
                  f"{report.removals.net_creditable_units} creditable units after an "
                  f"uncertainty deduction of {report.removals.uncertainty_deduction_t_co2e:,.1f}"
                  f" t CO2e", highlight=False)
    key_file = folder / "verifier.key"
    public_key = write_key(key_file)
    attestation = attest(report, key_file.read_bytes(), verifier="EcoVerify VVB")
    att_file = folder / "attestation.json"
    att_file.write_text(attestation.model_dump_json(indent=1) + "\n", encoding="utf-8")
    reg = Registry.open(f"sqlite:///{folder / 'registry.db'}")
    try:
        chain = _chain(reg, report_file.read_text(encoding="utf-8"), report, public_key,
                       att_file.read_text(encoding="utf-8"))
        serial = chain["retired_serial"]
        tr = reg.query("trace", serial=str(serial))
    finally:
        reg.close()
    chain_file, trace_file = folder / "chain.json", folder / "trace.json"
    chain_file.write_text(json.dumps(chain, indent=1, default=str) + "\n", encoding="utf-8")
    trace_file.write_text(json.dumps(tr, indent=1, default=str) + "\n", encoding="utf-8")
    console.print(f"  attested by EcoVerify VVB (Ed25519), issued "
                  f"{chain['issued_units']} units over vintages "
                  f"{', '.join(str(v) for v in chain['vintages'])} (buffer "
                  f"{chain['buffer_units']}), retired {chain['retired_units']} for "
                  f"{chain['beneficiary']}", highlight=False)
    console.print(f"  statement: {chain['statement']}", highlight=False)
    console.print(f"  trace of serial {serial}: "
                  f"`hesuan registry trace {serial} --db {folder / 'registry.db'}`",
                  highlight=False)
    return [*written, att_file, chain_file, trace_file, folder / "registry.db"]


def _chain(reg: object, report_text: str, report: object, public_key: str,
           attestation_text: str) -> dict:
    from typing import Any

    r: Any = reg
    rep_doc: Any = report
    admin = r.authenticate(r.bootstrap()["token"])
    actors = {}
    for k, (name, role, country) in enumerate([
            ("Hubei Green Forestry Co.", "proponent", "CN"), ("EcoVerify VVB", "verifier", None),
            ("Acme Airlines", "holder", "DE")]):
        actors[role] = r.authenticate(r.create_party(admin, f"q-party-{k}", name=name,
                                                     role=role, country=country)["token"])
    prop, ver, hold = actors["proponent"], actors["verifier"], actors["holder"]
    r.accredit_verifier(admin, "q-accredit", party_id=ver.party_id, sector="AFOLU",
                        public_key=public_key)
    proj = r.create_project(prop, "q-project", name=rep_doc.project["name"],
                            methodology_id=rep_doc.methodology_id,
                            methodology_version=rep_doc.methodology_version,
                            host_country="CN", host_region="Hubei", sector="AFOLU",
                            crediting_start=rep_doc.project["start"],
                            crediting_end="2049-12-31", buffer_pct="20")
    pid = proj["project_id"]
    r.transition_project(ver, "q-validate", project_id=pid, status="validated")
    r.transition_project(admin, "q-register", project_id=pid, status="registered")
    units = rep_doc.removals.net_creditable_units
    rep = r.submit_report(prop, "q-report", project_id=pid, period_start="2023-01-01",
                          period_end=rep_doc.period_end, reported_quantity=units,
                          quantification=report_text)
    r.verify_report(ver, "q-verify", report_id=rep["report_id"], verified_quantity=units,
                    attestation=attestation_text)
    issued, buffer, vintages = 0, 0, []
    for v in rep_doc.vintages:
        iss = r.issue(admin, f"q-issue-{v.year}", report_id=rep["report_id"],
                      quantity=v.units, vintage=v.year)
        issued += v.units
        buffer += iss["buffer_quantity"]
        vintages.append(v.year)
    buyer = r.open_account(hold, "q-account", name="Acme Airlines holding")
    r.transfer(prop, "q-transfer", from_account=proj["forward_account_id"],
               to_account=buyer["account_id"], quantity=1000)
    ret = r.retire(hold, "q-retire", from_account=buyer["account_id"], quantity=250,
                   beneficiary="Acme Airlines passengers 2025", purpose="voluntary",
                   claim_start="2025-01-01", claim_end="2025-12-31",
                   note="voluntary offsetting, illustrative")
    retired_serial = ret["blocks"][0]["serial"]
    audit = r.verify()
    return {"project": proj, "report": rep, "issued_units": issued, "buffer_units": buffer,
            "vintages": vintages, "retirement": ret, "retired_units": 250,
            "retired_serial": retired_serial, "beneficiary": "Acme Airlines passengers 2025",
            "statement": ret["statement"], "audit_ok": audit["ok"]}

"""``hesuan attest`` and ``hesuan verify-attestation``.

Verifiers sign quantification reports (Ed25519); anyone checks the signature offline.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from hesuan.cli._console import console

app = typer.Typer(
    help="Verifiers' signed attestations of quantification reports (Ed25519).\n\n"
         "Example:  hesuan attest keygen --out verifier.key\n"
         "          hesuan attest sign q/quantification_2025-12-31.json --key verifier.key "
         "--verifier \"EcoVerify VVB\" --out attestation.json\n"
         "          hesuan verify-attestation attestation.json --report "
         "q/quantification_2025-12-31.json",
    no_args_is_help=True,
)


@app.command("keygen")
def keygen(out: Path = typer.Option(..., "--out", help="Where to write the private key (PEM)."),
           as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Make a verifier's key pair; prints the public key to register with the registry.

    Example: hesuan attest keygen --out verifier.key
    """
    from hesuan.quantification.attestation import write_key

    pub = write_key(out)
    if as_json:
        typer.echo(json.dumps({"private_key": str(out), "public_key": pub}))
    else:
        console.print(f"private key written to {out} (keep it secret)\npublic key: {pub}")


@app.command("sign")
def sign(
    report: Path = typer.Argument(..., exists=True, help="The quantification report (JSON)."),
    key: Path = typer.Option(..., "--key", exists=True, help="Your private key (PEM)."),
    verifier: str = typer.Option(..., "--verifier", help="Your name as verifier."),
    out: Path = typer.Option(..., "--out", help="Where to write the attestation (JSON)."),
    units: int | None = typer.Option(None, "--units",
                                     help="Verified units (default: the report's)."),
    statement: str = typer.Option("verified with reasonable assurance", "--statement"),
    as_json: bool = typer.Option(False, "--json", help="Print the attestation."),
) -> None:
    """Attest a quantification report by its hash and sign the attestation.

    Example: hesuan attest sign q/quantification_2025-12-31.json --key verifier.key
    --verifier "EcoVerify VVB" --out attestation.json
    """
    from hesuan.quantification.attestation import attest
    from hesuan.quantification.check import parse_report

    r = parse_report(report.read_text(encoding="utf-8"), str(report))
    att = attest(r, key.read_bytes(), verifier=verifier, verified_units=units,
                 statement=statement)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(att.model_dump_json(indent=1) + "\n", encoding="utf-8")
    tmp.replace(out)
    if as_json:
        typer.echo(att.model_dump_json(indent=1))
    else:
        console.print(f"attested report {r.report_sha256[:16]}… ({att.verified_units} units); "
                      f"wrote {out}")


def verify_attestation(
    attestation: Path = typer.Argument(..., exists=True, help="The attestation (JSON)."),
    report: Path | None = typer.Option(None, "--report", exists=True,
                                       help="Also check it attests this report."),
    public_key: str | None = typer.Option(None, "--public-key",
                                          help="Also check it was signed with this key."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Check an attestation's Ed25519 signature offline (exit 2 if it does not verify).

    Example: hesuan verify-attestation attestation.json --report q/quantification_2025-12-31.json
    """
    from hesuan.quantification.attestation import parse_attestation
    from hesuan.quantification.attestation import verify_attestation as check
    from hesuan.quantification.check import parse_report

    att = parse_attestation(attestation.read_text(encoding="utf-8"), str(attestation))
    r = parse_report(report.read_text(encoding="utf-8"), str(report)) if report else None
    check(att, r, public_key)
    result = {"ok": True, "report_sha256": att.report_sha256, "verifier": att.verifier,
              "public_key": att.public_key, "verified_units": att.verified_units,
              "checked_against_report": r is not None}
    if as_json:
        typer.echo(json.dumps(result, indent=1))
    else:
        console.print(f"[green]ok[/green]: signature by {att.verifier} ({att.public_key[:16]}…) "
                      f"verifies; attests report {att.report_sha256[:16]}…, "
                      f"{att.verified_units} units")

"""``hesuan demo``: run every capability on the bundled example data."""

from __future__ import annotations

from pathlib import Path

import typer

from hesuan.cli._console import console


def demo(
    out: Path = typer.Option(Path("hesuan-demo-output"), "--out", "-o",
                             help="Folder for the demo's outputs (created if absent)."),
) -> None:
    """Run every capability of hesuan on bundled example data and say where outputs went.

    Example: hesuan demo --out /tmp/hesuan-demo
    """
    from hesuan.cli import land, land_gep, quantify, registry, transport
    from hesuan.io.jsonout import write_json
    from hesuan.io.outputs import OutputSet, check_folder
    from hesuan.standards import list_datasets

    check_folder(out, "--out")
    outputs: list[Path] = []

    console.rule("Standards library")
    datasets = list_datasets()
    with OutputSet("demo") as outs:
        catalogue = outs.add(out / "standards_catalogue.json", "json")
        write_json(catalogue.tmp, [d.as_dict() for d in datasets])
    outputs.append(catalogue.path)
    for info in datasets:
        console.print(f"  {info.key:<28} {info.licence:<22} {info.title}", highlight=False)

    console.rule("Transport emissions (ISO 14083 / GLEC)")
    outputs.extend(transport.run_demo(out))
    console.rule("Land carbon and sinks (InVEST parity, IPCC Tier 1)")
    land_outputs = land.run_demo(out)
    outputs.extend(land_outputs)
    console.rule("Gross Ecosystem Product (GEP) of a county")
    outputs.extend(land_gep.run_demo(out))
    console.rule("Carbon-credit registry (issuing from an AR-ACM0003 quantification report)")
    outputs.extend(registry.run_demo(out))
    console.rule("From planted forest to retired credit (CCER-14-001-V01, AR-TOOL14)")
    outputs.extend(quantify.run_demo(out))

    console.rule("Outputs")
    for path in outputs:
        console.print(f"  {path}", highlight=False)
    console.print(f"[green]Demo finished.[/green] Outputs in {out.resolve()}")

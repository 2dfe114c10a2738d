"""The land workbench: land-cover rasters and a pools table in, carbon maps and tables out.

Upload land-cover rasters and a pools table or pick the bundled example, run the carbon model as a
background job, see the result maps on a Leaflet map with a legend in the result's units, totals and
region tables; the IPCC Tier 1 tables.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile as StarletteUpload

from hesuan.web import i18n
from hesuan.web.documents import render_html, render_pdf
from hesuan.web.i18n import _
from hesuan.web.jobs import JobRunner
from hesuan.web.render import page
from hesuan.web.routes._jobs import owned_job, web_state
from hesuan.web.state import Job, sid_digest

router = APIRouter(prefix="/land")


def _work() -> Any:
    """:mod:`hesuan.web.land_work`, imported at first use.

    The engines (Polars, rasterio …) load only when a workbench is used, so the server starts as
    fast as without them.
    """
    from hesuan.web import land_work

    return land_work


DOWNLOADS = {"summary.json": "application/json", "regions.csv": "text/csv",
             "classes.csv": "text/csv", "c_storage_bas.tif": "image/tiff",
             "c_storage_alt.tif": "image/tiff", "c_change_bas_alt.tif": "image/tiff"}


@router.get("", response_class=HTMLResponse)
def home(request: Request) -> Response:
    """Show the land workbench with the session's runs."""
    jobs = web_state(request).jobs_of(sid_digest(request.state.sid), "land")
    return page(request, "land/home.html", title=_("Land workbench"), jobs=jobs,
                titles=TITLES)


@router.get("/ipcc", response_class=HTMLResponse)
def ipcc(request: Request,
         edition: Annotated[str, Query(pattern="^(2006|2019)$")] = "2019") -> Response:
    """Show the IPCC Tier 1 worked tables of ``edition``."""
    tables = _work().ipcc_tables(edition)
    return page(request, "land/ipcc.html", title=_("IPCC Tier 1 tables"), edition=edition,
                tables=tables)


async def _save(upload: StarletteUpload, folder: Path, stem: str, kind: str) -> str:
    head = await upload.read(8)
    suffix = _work().accept(upload.filename or "", head, kind)
    target = folder / f"{stem}{suffix}"
    with target.open("wb") as f:
        f.write(head)
        while chunk := await upload.read(1 << 20):
            f.write(chunk)
    return str(target)


ANALYSES = ("carbon", "gep", "seea_extent", "seea_condition", "habitat")
"""What the workbench runs: the carbon model and the natural-capital accounts."""
TITLES = {"carbon": i18n.lazy("Carbon storage and sequestration"),
          "gep": i18n.lazy("Gross Ecosystem Product (GEP)"),
          "seea_extent": i18n.lazy("SEEA extent account"),
          "seea_condition": i18n.lazy("SEEA condition account"),
          "habitat": i18n.lazy("Habitat quality")}
"""The analyses' names as the pages show them (translated when shown)."""
UPLOADS: dict[str, tuple[tuple[str, str, bool], ...]] = {
    "carbon": (("lulc", "raster", True), ("pools", "table", True), ("alt", "raster", False)),
    "gep": (("quantities", "table", True), ("price_index", "table", False),
            ("gdp", "table", False)),
    "seea_extent": (("opening", "raster", True), ("closing", "raster", True),
                    ("types", "table", True)),
    "seea_condition": (("variables", "table", True),),
    "habitat": (("lulc", "raster", True), ("threats_lulc", "table", True),
                ("sensitivity", "table", True)),
}
"""Upload fields of each analysis: (field, kind, required)."""
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,100}\.tif$")


@router.post("/jobs")
async def create(request: Request,
                 analysis: Annotated[str, Form(max_length=20)] = "carbon",
                 example: Annotated[str, Form(max_length=4)] = "",
                 managed: Annotated[str, Form(max_length=400)] = "",
                 threat_rasters: Annotated[list[UploadFile] | None, File()] = None,
                 ) -> Response:
    """Start a run of ``analysis`` on the bundled example or on the uploaded files."""
    if analysis not in ANALYSES:
        raise HTTPException(422, _("There is no such analysis."))
    state = web_state(request)
    job = await run_in_threadpool(state.new_job, "land", sid_digest(request.state.sid), {})
    folder = state.job_dir(job.id)
    files: dict[str, str]
    if example:
        files = await run_in_threadpool(_example, analysis, folder)
        name = ""  # shown as "bundled example" in the page's language
    else:
        form = await request.form()
        files, name = {}, ""
        for field, kind, required in UPLOADS[analysis]:
            upload = form.get(field)
            if not isinstance(upload, StarletteUpload) or not upload.filename:
                if required:
                    raise HTTPException(422, _("Choose the files this analysis needs, or "
                                               "the bundled example."))
                continue
            files[field] = await _save(upload, folder, field, kind)
            name = name or upload.filename
        if analysis == "habitat":  # threat rasters, named as the threats table names them
            for upload in threat_rasters or []:
                if not upload.filename:
                    continue
                stem = Path(upload.filename).stem
                if not _SAFE_NAME.match(upload.filename) or stem in {
                        f for f, _k, _r in UPLOADS["habitat"]}:
                    raise HTTPException(422, _("A threat raster's file name must be plain "
                                               "(letters, digits, . _ -) and end in .tif."))
                await _save(upload, folder, stem, "raster")
        if analysis == "seea_extent":
            files["managed"] = managed
    state.update_job(job.id, params=json.dumps({"name": name, "example": bool(example),
                                                 "analysis": analysis, "files": files}))
    runner: JobRunner = request.app.state.jobs
    scheduler = request.app.state.settings.dask_scheduler
    if analysis == "carbon":
        runner.submit(job, lambda d, p: _work().run(d, files, p, scheduler))
    else:
        runner.submit(job, lambda d, p: _analyses().RUNS[analysis](d, files, p, scheduler))
    return RedirectResponse(f"/web/land/jobs/{job.id}", status_code=303)


def _analyses() -> Any:
    """:mod:`hesuan.web.land_analyses`, imported at first use (as :func:`_work`)."""
    from hesuan.web import land_analyses

    return land_analyses


def _example(analysis: str, folder: Path) -> dict[str, str]:
    work = _analyses()
    if analysis == "carbon":
        files: dict[str, str] = _work().copy_example(folder)
        return files
    if analysis == "gep":
        return dict(work.gep_example())
    if analysis == "seea_extent":
        return dict(work.seea_example())
    return dict(work.habitat_example(folder))


def _downloads(job: Job, folder: Path) -> dict[str, str]:
    """Return the files of ``job`` a visitor may download, by name, with their media types."""
    analysis = job.params.get("analysis", "carbon")
    names = DOWNLOADS if analysis == "carbon" else _analyses().DOWNLOADS[analysis]
    return {n: t for n, t in names.items() if (folder / "result" / n).is_file()}


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def show(request: Request, job_id: str) -> Response:
    """Show a land run: its status, then its report and map."""
    job = owned_job(request, job_id, "land")
    folder = web_state(request).job_dir(job.id)
    context: dict[str, Any] = {"job": job, "titles": TITLES}
    if job.status == "done":
        context.update(document=render_html(_work().report_document(folder)),
                       map=_work().map_spec(folder, job.id),
                       downloads=list(_downloads(job, folder)),
                       analysis=job.params.get("analysis", "carbon"))
    return page(request, "land/job.html", title=_("Land run"), **context)


@router.get("/jobs/{job_id}/status", response_class=HTMLResponse)
def status(request: Request, job_id: str) -> Response:
    """Return a land run's status fragment (the page reloads once the run has finished)."""
    from hesuan.web.render import fragment

    job = owned_job(request, job_id, "land")
    headers = {} if job.status in ("queued", "running") else {"HX-Refresh": "true"}
    return HTMLResponse(fragment("transport/_status.html", job=job), headers=headers)


@router.get("/jobs/{job_id}/png/{name}")
def png(request: Request, job_id: str, name: str,
        legend: Annotated[int, Query(ge=0, le=1)] = 0) -> Response:
    """Return a result map of a land run as PNG (or its legend)."""
    job = owned_job(request, job_id, "land")
    if name not in _work().layer_names(web_state(request).job_dir(job.id)):
        raise HTTPException(404, _("There is no such file."))
    suffix = ".legend.png" if legend else ".png"
    path = web_state(request).job_dir(job.id) / "result" / f"{name}{suffix}"
    if not path.exists():
        raise HTTPException(404, _("There is no such file."))
    return FileResponse(path, media_type="image/png")


@router.get("/jobs/{job_id}/report.pdf")
async def report_pdf(request: Request, job_id: str) -> Response:
    """Return a finished land run's report as PDF."""
    job = owned_job(request, job_id, "land")
    if job.status != "done":
        raise HTTPException(409, _("The run has not finished."))
    doc = await run_in_threadpool(_work().report_document, web_state(request).job_dir(job.id))
    pdf = await run_in_threadpool(render_pdf, doc)
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": 'attachment; filename="land-report.pdf"'})


@router.get("/jobs/{job_id}/files/{name:path}")
def download(request: Request, job_id: str, name: str) -> Response:
    """Return a result file of a land run."""
    job = owned_job(request, job_id, "land")
    folder = web_state(request).job_dir(job.id)
    allowed = _downloads(job, folder) if job.status == "done" else {}
    if name not in allowed:
        raise HTTPException(404, _("There is no such file."))
    return FileResponse(folder / "result" / name, media_type=allowed[name],
                        filename="land-" + name.replace("/", "-"))

"""The land workbench: land-cover rasters and a pools table in, carbon maps and tables out.

Upload land-cover rasters and a pools table or pick the bundled example, run the carbon model as a
background job, see the result maps on a Leaflet map with a legend in the result's units, totals and
region tables; the IPCC Tier 1 tables.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from hesuan.web.documents import render_html, render_pdf
from hesuan.web.i18n import _
from hesuan.web.jobs import JobRunner
from hesuan.web.render import page
from hesuan.web.routes._jobs import owned_job, web_state
from hesuan.web.state import sid_digest

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
    return page(request, "land/home.html", title=_("Land workbench"), jobs=jobs)


@router.get("/ipcc", response_class=HTMLResponse)
def ipcc(request: Request,
         edition: Annotated[str, Query(pattern="^(2006|2019)$")] = "2019") -> Response:
    """Show the IPCC Tier 1 worked tables of ``edition``."""
    tables = _work().ipcc_tables(edition)
    return page(request, "land/ipcc.html", title=_("IPCC Tier 1 tables"), edition=edition,
                tables=tables)


async def _save(upload: UploadFile, folder: Path, stem: str, kind: str) -> str:
    head = await upload.read(8)
    suffix = _work().accept(upload.filename or "", head, kind)
    target = folder / f"{stem}{suffix}"
    with target.open("wb") as f:
        f.write(head)
        while chunk := await upload.read(1 << 20):
            f.write(chunk)
    return str(target)


@router.post("/jobs")
async def create(request: Request,
                 lulc: Annotated[UploadFile | None, File()] = None,
                 alt: Annotated[UploadFile | None, File()] = None,
                 pools: Annotated[UploadFile | None, File()] = None,
                 example: Annotated[str, Form(max_length=4)] = "") -> Response:
    """Start a land run on uploaded files or the bundled example."""
    state = web_state(request)
    job = await run_in_threadpool(state.new_job, "land", sid_digest(request.state.sid), {})
    folder = state.job_dir(job.id)
    if example:
        files = await run_in_threadpool(_work().copy_example, folder)
        name = ""  # shown as "bundled example" in the page's language
    else:
        if lulc is None or not lulc.filename or pools is None or not pools.filename:
            raise HTTPException(422, _("Choose a land-cover map and a pools table, or the "
                                       "bundled example."))
        files = {"lulc": await _save(lulc, folder, "lulc", "raster"),
                 "pools": await _save(pools, folder, "pools", "table")}
        if alt is not None and alt.filename:
            files["alt"] = await _save(alt, folder, "alt", "raster")
        name = lulc.filename
    state.update_job(job.id, params=json.dumps({"name": name, "example": bool(example),
                                                 "files": files}))
    runner: JobRunner = request.app.state.jobs
    scheduler = request.app.state.settings.dask_scheduler
    runner.submit(job, lambda d, p: _work().run(d, files, p, scheduler))
    return RedirectResponse(f"/web/land/jobs/{job.id}", status_code=303)


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def show(request: Request, job_id: str) -> Response:
    """Show a land run: its status, then its report and map."""
    job = owned_job(request, job_id, "land")
    folder = web_state(request).job_dir(job.id)
    context: dict[str, Any] = {"job": job}
    if job.status == "done":
        context.update(document=render_html(_work().report_document(folder)),
                       map=_work().map_spec(folder, job.id))
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
    if name not in _work().MAP_LAYERS:
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


@router.get("/jobs/{job_id}/files/{name}")
def download(request: Request, job_id: str, name: str) -> Response:
    """Return a result file of a land run."""
    job = owned_job(request, job_id, "land")
    path = web_state(request).job_dir(job.id) / "result" / name
    if name not in DOWNLOADS or not path.exists():
        raise HTTPException(404, _("There is no such file."))
    return FileResponse(path, media_type=DOWNLOADS[name], filename=f"land-{name}")

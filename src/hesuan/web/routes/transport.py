"""The transport workbench.

Upload legs (CSV, Parquet or XLSX; or the bundled example), see each row's problems before running,
run as a background job, read the ISO 14083 report in the page, download Parquet / CSV / JSON / PDF.
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
from hesuan.web.render import fragment, page
from hesuan.web.routes._jobs import owned_job, web_state
from hesuan.web.state import sid_digest

router = APIRouter(prefix="/transport")


def _work() -> Any:
    """:mod:`hesuan.web.transport_work`, imported at first use.

    The engines (Polars, rasterio …) load only when a workbench is used, so the server starts as
    fast as without them.
    """
    from hesuan.web import transport_work

    return transport_work


LEGS_PAGE = 50
DOWNLOADS = {"legs.parquet": "application/vnd.apache.parquet", "legs.csv": "text/csv",
             "summary.json": "application/json", "rejects.csv": "text/csv"}


@router.get("", response_class=HTMLResponse)
def home(request: Request) -> Response:
    """Show the transport workbench with the session's runs."""
    jobs = web_state(request).jobs_of(sid_digest(request.state.sid), "transport")
    return page(request, "transport/home.html", title=_("Transport workbench"), jobs=jobs)


@router.get("/template.xlsx")
def template() -> Response:
    """Return the legs template workbook (.xlsx)."""
    return Response(_work().xlsx_template(),
                    media_type="application/vnd.openxmlformats-officedocument."
                               "spreadsheetml.sheet",
                    headers={"Content-Disposition": 'attachment; filename="hesuan-legs.xlsx"'})


async def _save(upload: UploadFile, folder: Path, stem: str, what: str) -> Path:
    head = await upload.read(8)
    suffix = _work().accept_upload(upload.filename or "", head, what)
    target = folder / f"{stem}{suffix}"
    with target.open("wb") as f:
        f.write(head)
        while chunk := await upload.read(1 << 20):
            f.write(chunk)
    return await run_in_threadpool(_work().to_engine_input, target)


@router.post("/jobs")
async def create(request: Request,
                 legs: Annotated[UploadFile | None, File()] = None,
                 hubs: Annotated[UploadFile | None, File()] = None,
                 example: Annotated[str, Form(max_length=4)] = "") -> Response:
    """Store the upload (or copy the example) and check every row in the background."""
    state = web_state(request)
    job = await run_in_threadpool(state.new_job, "transport", sid_digest(request.state.sid), {})
    folder = state.job_dir(job.id)
    hubs_path: Path | None
    if example:
        legs_path, hubs_path = _work().copy_example(folder)
        name = ""  # shown as "bundled example" in the page's language
    else:
        if legs is None or not legs.filename:
            raise HTTPException(422, _("Choose a legs file, or the bundled example."))
        legs_path = await _save(legs, folder, "legs", "legs")
        hubs_path = (await _save(hubs, folder, "hubs", "hubs")
                     if hubs is not None and hubs.filename else None)
        name = legs.filename
    params = {"name": name, "example": bool(example), "legs": str(legs_path),
              "hubs": str(hubs_path) if hubs_path else None}
    state.update_job(job.id, params=json.dumps(params))
    runner: JobRunner = request.app.state.jobs
    runner.submit(job, lambda d, p: _work().check(d, legs_path, hubs_path, p),
                  running="checking", done="checked")
    return RedirectResponse(f"/web/transport/jobs/{job.id}", status_code=303)


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def show(request: Request, job_id: str,
         offset: Annotated[int, Query(ge=0, le=10**12)] = 0) -> Response:
    """Show a transport job: its check, or its report and a page of legs."""
    job = owned_job(request, job_id, "transport")
    folder = web_state(request).job_dir(job.id)
    context: dict[str, Any] = {"job": job}
    if job.status == "checked":
        context.update(check=json.loads((folder / "check.json").read_text("utf-8")),
                       rejects=_rejects(folder / "rejects.csv"))
    if job.status == "done":
        doc = _work().report_document(folder)
        rows = _work().legs_page(folder, offset, LEGS_PAGE)
        context.update(document=render_html(doc), legs=rows, offset=offset,
                       limit=LEGS_PAGE, total=_work().n_legs(folder),
                       has_rejects=(folder / "result" / "rejects.csv").exists())
    return page(request, "transport/job.html", title=_("Transport run"), **context)


def _rejects(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    import polars as pl

    return pl.read_csv(path, infer_schema_length=0).head(500).to_dicts()


@router.get("/jobs/{job_id}/status", response_class=HTMLResponse)
def status(request: Request, job_id: str) -> Response:
    """Return the job's state (htmx polls it); when it has finished the page reloads itself."""
    job = owned_job(request, job_id, "transport")
    html = fragment("transport/_status.html", job=job)
    headers = {} if job.status in ("queued", "checking", "running") else {"HX-Refresh": "true"}
    return HTMLResponse(html, headers=headers)


@router.post("/jobs/{job_id}/run")
async def run(request: Request, job_id: str,
              skip_invalid: Annotated[str, Form(max_length=4)] = "") -> Response:
    """Run a checked transport job in the background."""
    job = owned_job(request, job_id, "transport")
    if job.status != "checked":
        raise HTTPException(409, _("This job has been run already."))
    legs = Path(job.params["legs"])
    hubs = Path(job.params["hubs"]) if job.params.get("hubs") else None
    skip = bool(skip_invalid)
    runner: JobRunner = request.app.state.jobs
    scheduler = request.app.state.settings.dask_scheduler
    runner.submit(job, lambda d, p: _work().run(d, legs, hubs, skip, p, scheduler))
    return RedirectResponse(f"/web/transport/jobs/{job.id}", status_code=303)


@router.get("/jobs/{job_id}/report.pdf")
async def report_pdf(request: Request, job_id: str) -> Response:
    """Return a finished transport run's report as PDF."""
    job = owned_job(request, job_id, "transport")
    if job.status != "done":
        raise HTTPException(409, _("The run has not finished."))
    doc = await run_in_threadpool(_work().report_document, web_state(request).job_dir(job.id))
    pdf = await run_in_threadpool(render_pdf, doc)
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": 'attachment; filename="transport-report.pdf"'})


@router.get("/jobs/{job_id}/files/{name}")
def download(request: Request, job_id: str, name: str) -> Response:
    """Return a result file of a transport run."""
    job = owned_job(request, job_id, "transport")
    if name not in DOWNLOADS:
        raise HTTPException(404, _("There is no such file."))
    path = web_state(request).job_dir(job.id) / "result" / name
    if not path.exists():
        raise HTTPException(404, _("There is no such file."))
    return FileResponse(path, media_type=DOWNLOADS[name], filename=f"transport-{name}")

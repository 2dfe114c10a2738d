"""The standards library browser.

Datasets with licence and provenance, factor search, one factor's page with every shipped version,
the methodology catalogue (:mod:`hesuan.standards`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from hesuan.errors import FactorNotFoundError
from hesuan.standards import (
    DatasetInfo,
    FactorRecord,
    list_datasets,
    load_dataset,
    load_methodologies,
    search_factors,
)
from hesuan.web.i18n import _
from hesuan.web.render import page

router = APIRouter(prefix="/standards")
Name = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.\-]{1,80}$")]
SHOWN = 200


@router.get("", response_class=HTMLResponse)
def datasets(request: Request) -> Response:
    """Show the standards library: every shipped dataset."""
    return page(request, "standards/datasets.html", title=_("Standards library"),
                datasets=list_datasets())


@router.get("/search", response_class=HTMLResponse)
def search(request: Request, q: Annotated[str, Query(max_length=200)] = "") -> Response:
    """Search the shipped factors for ``q``."""
    hits = search_factors(q) if q.strip() else []
    return page(request, "standards/search.html", title=_("Search factors"), q=q,
                hits=hits[:SHOWN], total=len(hits))


@router.get("/methodologies", response_class=HTMLResponse)
def methodologies(request: Request) -> Response:
    """Show the methodology catalogue."""
    catalogue = load_methodologies()
    return page(request, "standards/methodologies.html", title=_("Methodologies"),
                catalogue=catalogue)


@router.get("/{dataset}/{version}", response_class=HTMLResponse)
def dataset(request: Request, dataset: Name, version: Name) -> Response:
    """Show one shipped dataset version."""
    ds = load_dataset(dataset, version)
    return page(request, "standards/dataset.html", title=f"{ds.info.id}@{ds.info.version}",
                ds=ds)


@router.get("/{dataset}/{version}/{factor_id}", response_class=HTMLResponse)
def factor(request: Request, dataset: Name, version: Name,
           factor_id: Annotated[str, Path(max_length=200)]) -> Response:
    """One factor with its source, and the same id in every shipped version."""
    ds = load_dataset(dataset, version)
    record = ds.get(factor_id)
    versions: list[tuple[DatasetInfo, FactorRecord | None]] = []
    for info in list_datasets():
        if info.id != dataset:
            continue
        try:
            versions.append((info, load_dataset(info.id, info.version).get(factor_id)))
        except FactorNotFoundError:
            versions.append((info, None))
    return page(request, "standards/factor.html", title=factor_id, ds=ds, r=record,
                versions=versions)

"""Activity distances on the basis ISO 14083 asks for: SFD (road, rail, IWW, sea) or GCD (air).

One equation = one function: the distance adjustment (:func:`to_standard_basis`) and the
modelled surface distance (:func:`modelled_surface_km`) over Polars expressions; the
geodesic (pyproj) and the sea route (searoute's network, scipy's Dijkstra) over arrays.
No file I/O.

Distance adjustment factors (DAF) relate the *actual* distance a vehicle travels to the
standard's basis (CLECAT guide, Table 3, pp. 22–23, after ISO 14083:2023 clause 7.2 and
Annex H): air ``actual = GCD + 95 km``; road ``actual = SFD × 1.05``; sea
``actual = SFD × 1.15``; rail and inland waterway: no adjustment.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
from numpy.typing import ArrayLike, NDArray

from hesuan.transport.spec import MODES as MODES  # re-exported (chain.py reads dist.MODES)

if TYPE_CHECKING:  # scipy is imported with the sea network, when a run has sea legs
    from scipy.sparse import csr_array

STANDARD_BASIS: dict[str, str] = {
    "road": "sfd", "rail": "sfd", "inland_waterway": "sfd", "sea": "sfd", "air": "gcd",
}
"""The distance basis ISO 14083 uses for each mode's activity (CLECAT guide Table 3, p. 22)."""

AIR_DAF_KM = 95.0
"""Air: actual = GCD + 95 km (ISO 14083:2023 Annex H via CLECAT guide Table 3, p. 23) [km]."""

ROAD_DAF = 1.05
"""Road: actual = SFD × 1.05 (CLECAT guide Table 3, p. 23) [-]."""

SEA_DAF = 1.15
"""Sea: actual = SFD × 1.15 (CLECAT guide Table 3, p. 23) [-]."""

DEFAULT_CIRCUITY = 1.2
"""Road/rail modelled distance = GCD × circuity when no routing engine is used [-].

Not a number of ISO 14083: a value "typical in the literature" for road networks (e.g.
Ballou, Rahardja & Sakai 2002, *Transportation Research A* 36(9): 843–848, who report road
circuity factors of about 1.1–1.4 by region). Configurable: ``circuity=`` in
:func:`hesuan.transport.calculate` and ``--circuity`` on the CLI. Distances made with it are
labelled ``data_type = modelled``.
"""

def _label(text: str) -> pl.Expr:
    """Return a label literal as Categorical (labels chosen per leg stay 4-byte codes)."""
    return pl.lit(text, dtype=pl.Categorical)


def to_standard_basis(distance_km: pl.Expr, basis: pl.Expr, mode: pl.Expr) -> pl.Expr:
    """Return a given distance on the standard's basis of its mode (ISO 14083 distance adjustment).

    ``actual`` distances are converted by the mode's distance adjustment factor: road
    ``SFD = actual / 1.05``, sea ``SFD = actual / 1.15``, air ``GCD = actual − 95 km``; rail
    and inland waterway ``SFD = actual``. ``sfd``/``gcd`` distances are used as given (a GCD
    given for a surface mode cannot be converted without a network; :func:`distance_rule`
    labels it ``gcd_as_given``).

    Parameters
    ----------
    distance_km : [km] the given distance
    basis : ``sfd`` | ``gcd`` | ``actual``, the basis of ``distance_km``
    mode : the leg's mode

    Returns
    -------
    distance_km : [km] SFD (road, rail, IWW, sea) or GCD (air)

    References
    ----------
    ISO 14083:2023 clause 7.2 and Annex H; CLECAT/UBA guide to ISO 14083 (2024), Table 3,
    pp. 22–23 (air +95 km, road × 1.05, sea × 1.15, rail/IWW none).
    """
    actual = basis == "actual"
    return (pl.when(actual & (mode == "road")).then(distance_km / ROAD_DAF)
            .when(actual & (mode == "sea")).then(distance_km / SEA_DAF)
            .when(actual & (mode == "air")).then(distance_km - AIR_DAF_KM)
            .otherwise(distance_km))


def distance_rule(distance_km: pl.Expr, basis: pl.Expr, mode: pl.Expr) -> pl.Expr:
    """Return the rule :func:`to_standard_basis` applied to each given distance (Categorical label).

    ``actual/1.05``, ``actual/1.15``, ``actual-95km``, ``actual=sfd``; ``gcd_as_given`` (a
    GCD for a surface mode), ``sfd_as_given`` (an SFD for air), ``as_given``; null where no
    distance is given.
    """
    actual = basis == "actual"
    return (pl.when(distance_km.is_null()).then(pl.lit(None, dtype=pl.Categorical))
            .when(actual & (mode == "road")).then(_label("actual/1.05"))
            .when(actual & (mode == "sea")).then(_label("actual/1.15"))
            .when(actual & (mode == "air")).then(_label("actual-95km"))
            .when(actual).then(_label("actual=sfd"))
            .when((basis == "gcd") & (mode != "air")).then(_label("gcd_as_given"))
            .when((basis == "sfd") & (mode == "air")).then(_label("sfd_as_given"))
            .otherwise(_label("as_given")))


def geodesic_km(
    lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike
) -> NDArray[np.float64]:
    """Great-circle distance on the WGS84 ellipsoid (geodesic, Karney's algorithm).

    Parameters
    ----------
    lat1, lon1, lat2, lon2 : [degrees]

    Returns
    -------
    gcd_km : [km]

    Notes
    -----
    ISO 14083 asks for the great-circle distance for air; hesuan computes it as the WGS84
    geodesic (``pyproj.Geod(ellps="WGS84").inv``), not the spherical haversine. Frankfurt →
    New York JFK: geodesic 6,205.2 km vs haversine 6,188.5 km (transport.md's reference value;
    tests check both).

    References
    ----------
    ISO 14083:2023 clause 7.2 (GCD for air); Karney, C. F. F. (2013), Algorithms for
    geodesics, *J. Geodesy* 87: 43–55.
    """
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    a1 = np.ascontiguousarray(lat1, dtype=np.float64)
    o1 = np.ascontiguousarray(lon1, dtype=np.float64)
    a2 = np.ascontiguousarray(lat2, dtype=np.float64)
    o2 = np.ascontiguousarray(lon2, dtype=np.float64)
    if a1.size == 0:
        return np.zeros(0)
    _, _, dist_m = geod.inv(o1, a1, o2, a2)
    return np.asarray(dist_m, dtype=np.float64) / 1000.0


def modelled_surface_km(gcd_km: pl.Expr, circuity: float = DEFAULT_CIRCUITY) -> pl.Expr:
    """Road/rail/IWW distance modelled from coordinates: ``SFD ≈ GCD × circuity``.

    Parameters
    ----------
    gcd_km : [km] WGS84 geodesic between the leg's end points
    circuity : [-] ratio of network to great-circle distance (see :data:`DEFAULT_CIRCUITY`)

    Returns
    -------
    sfd_km : [km] a *modelled* shortest feasible distance

    References
    ----------
    transport.md: "GCD × a circuity factor ... is a *modelled* distance and must be labelled
    so" (CLECAT guide p. 18 on data types).
    """
    return gcd_km * circuity


@dataclass(frozen=True)
class _SeaNetwork:
    """searoute's marnet graph as a CSR matrix of edge lengths, built once per process.

    Edges whose passage is restricted (searoute's default: the Northwest Passage) or whose
    weight is None are left out — searoute's own weight function makes them infinite or
    skips them. Node ``i`` of the matrix is ``nodes[i]`` (lon, lat).
    """

    graph: Any
    nodes: list[tuple[float, float]]
    index: dict[tuple[float, float], int]
    matrix: csr_array


_NETWORK: list[_SeaNetwork] = []


def _sea_network() -> _SeaNetwork:
    if _NETWORK:
        return _NETWORK[0]
    from scipy.sparse import csr_array
    from searoute.classes.passages import Passage
    from searoute.searoute import get_graphs

    graph, _ = get_graphs(None, None, "networkx")
    restricted = [Passage.northwest]
    graph.restrictions = restricted
    nodes = list(graph.nodes)
    index = {n: i for i, n in enumerate(nodes)}
    rows, cols, weights = [], [], []
    for u, v, data in graph.edges(data=True):
        weight = data.get("weight")
        if weight is None or data.get("passage") in restricted:
            continue
        rows.append(index[u])
        cols.append(index[v])
        weights.append(float(weight))
    matrix = csr_array((np.array(weights), (np.array(rows), np.array(cols))),
                       shape=(len(nodes), len(nodes)))
    _NETWORK.append(_SeaNetwork(graph, nodes, index, matrix))
    return _NETWORK[0]


def _sea_lengths_from(origin: tuple[float, float],
                      destinations: list[tuple[float, float]]) -> list[float]:
    """Return searoute lengths [km] from one origin to many destinations with ONE Dijkstra search.

    The same network, snapping (searoute's k-d tree), restrictions, path post-processing
    (``searoute.utils.process_route``) and length formula (``distance_length``) as
    ``searoute.searoute``; the search is scipy's single-source Dijkstra
    (``scipy.sparse.csgraph.dijkstra``) over :class:`_SeaNetwork` instead of one
    bidirectional search per pair. An unreachable destination gives NaN.
    """
    from scipy.sparse.csgraph import dijkstra
    from searoute.utils import distance_length, process_route

    net = _sea_network()
    src = net.index[net.graph.kdtree.query(origin)]
    ends = [net.index[net.graph.kdtree.query(dest)] for dest in destinations]
    _, parent = dijkstra(net.matrix, directed=False, indices=src, return_predecessors=True)
    out = []
    for dest, end in zip(destinations, ends, strict=True):
        if dest == origin:
            out.append(0.0)
            continue
        if end != src and parent[end] < 0:
            out.append(float("nan"))
            continue
        path = [end]
        while path[-1] != src:
            path.append(int(parent[path[-1]]))
        path.reverse()
        line, _ = process_route([net.nodes[i] for i in path], net.graph, False)
        out.append(float(distance_length(line, units="km")))
    return out


_SEA_CACHE: dict[tuple[float, float, float, float], float] = {}


def sea_route_km(
    lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike, *, decimals: int = 2
) -> NDArray[np.float64]:
    """Sea SFD between ports over the ``searoute`` network (offline, Eurostat marnet graph).

    Coordinates are rounded to ``decimals`` (0.01° ≈ 1 km); each distinct port pair is routed
    once per process (cached), and all pairs sharing an origin with one single-source search
    (~0.1 s per origin instead of ~0.03 s per pair).

    Parameters
    ----------
    lat1, lon1, lat2, lon2 : [degrees]

    Returns
    -------
    sfd_km : [km]

    References
    ----------
    ISO 14083:2023 clause 7.2 (SFD for sea); searoute (PyPI, Apache-2.0). Rotterdam
    (4.0, 51.95) → Shanghai (121.8, 31.2) ≈ 19,531 km via Suez (transport.md).
    """
    coords = np.round(
        np.column_stack([np.asarray(x, dtype=np.float64) for x in (lon1, lat1, lon2, lat2)]),
        decimals,
    )
    if coords.shape[0] == 0:
        return np.zeros(0)
    unique, inverse = np.unique(coords, axis=0, return_inverse=True)
    keys = [(float(r[0]), float(r[1]), float(r[2]), float(r[3])) for r in unique]
    todo: dict[tuple[float, float], list[tuple[float, float]]] = {}
    for k in keys:
        if k not in _SEA_CACHE:
            todo.setdefault((k[0], k[1]), []).append((k[2], k[3]))
    for origin, dests in todo.items():
        for dest, length in zip(dests, _sea_lengths_from(origin, dests), strict=True):
            _SEA_CACHE[(*origin, *dest)] = length
    lengths = np.array([_SEA_CACHE[k] for k in keys], dtype=np.float64)
    return lengths[np.asarray(inverse).reshape(-1)]


def valid_coordinates(lat: Iterable[float], lon: Iterable[float]) -> NDArray[np.bool_]:
    """Return True where latitude is in [−90, 90] and longitude in [−180, 180] (WGS84 degrees)."""
    la = np.asarray(lat, dtype=np.float64)
    lo = np.asarray(lon, dtype=np.float64)
    return (np.abs(la) <= 90.0) & (np.abs(lo) <= 180.0)

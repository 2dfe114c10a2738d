"""Activity distances on the basis ISO 14083 asks for: SFD (road, rail, IWW, sea) or GCD (air).

One equation = one function. Arrays in, arrays out (NumPy); no I/O.

Distance adjustment factors (DAF) relate the *actual* distance a vehicle travels to the
standard's basis (CLECAT guide, Table 3, pp. 22–23, after ISO 14083:2023 clause 7.2 and
Annex H): air ``actual = GCD + 95 km``; road ``actual = SFD × 1.05``; sea
``actual = SFD × 1.15``; rail and inland waterway: no adjustment.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike, NDArray

MODES: tuple[str, ...] = ("road", "rail", "inland_waterway", "sea", "air")
"""Transport modes of ISO 14083:2023 handled here."""

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

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius R1 of the IUGG (Moritz 2000, *Geodetic Reference System 1980*) [km];
used only by :func:`haversine_km`, the spherical approximation."""


def actual_to_sfd_road(actual_km: ArrayLike) -> NDArray[np.float64]:
    """Road SFD from the actual distance driven: ``SFD = actual / 1.05``.

    Parameters
    ----------
    actual_km : [km]

    Returns
    -------
    sfd_km : [km]

    References
    ----------
    CLECAT/UBA guide to ISO 14083 (2024), Table 3, p. 23 (road DAF 1.05).
    """
    return np.asarray(actual_km, dtype=np.float64) / ROAD_DAF


def actual_to_sfd_sea(actual_km: ArrayLike) -> NDArray[np.float64]:
    """Sea SFD from the actual distance sailed: ``SFD = actual / 1.15``.

    Parameters
    ----------
    actual_km : [km]

    References
    ----------
    CLECAT/UBA guide to ISO 14083 (2024), Table 3, p. 23 (sea DAF 1.15).
    """
    return np.asarray(actual_km, dtype=np.float64) / SEA_DAF


def actual_to_gcd_air(actual_km: ArrayLike) -> NDArray[np.float64]:
    """Air GCD from the actual distance flown: ``GCD = actual − 95 km``.

    Parameters
    ----------
    actual_km : [km]

    References
    ----------
    CLECAT/UBA guide to ISO 14083 (2024), Table 3, p. 23 (air DAF +95 km).
    """
    return np.asarray(actual_km, dtype=np.float64) - AIR_DAF_KM


def standard_to_actual(distance_km: ArrayLike, modes: ArrayLike) -> NDArray[np.float64]:
    """The inverse of :func:`to_standard_basis` for ``actual`` input: SFD/GCD → actual.

    Parameters
    ----------
    distance_km : [km] on the mode's standard basis (SFD, or GCD for air)
    modes : mode names

    Returns
    -------
    actual_km : [km]

    References
    ----------
    CLECAT/UBA guide to ISO 14083 (2024), Table 3, p. 23.
    """
    d = np.asarray(distance_km, dtype=np.float64)
    m = np.asarray(modes)
    return np.select(
        [m == "road", m == "sea", m == "air"],
        [d * ROAD_DAF, d * SEA_DAF, d + AIR_DAF_KM],
        default=d,
    )


def to_standard_basis(
    distance_km: ArrayLike, bases: ArrayLike, modes: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.object_]]:
    """Convert given distances to the standard's basis of each mode; say which rule did it.

    ``sfd`` for road/rail/IWW/sea and ``gcd`` for air are used as given. ``actual`` is
    converted by the mode's distance adjustment factor. ``gcd`` given for a surface mode is
    used as given but cannot be converted without a network: it is labelled so (the caller
    decides whether that is acceptable; hesuan accepts it and marks it ``gcd_as_given``).
    ``sfd`` given for air likewise (``sfd_as_given``).

    Parameters
    ----------
    distance_km : [km]
    bases : ``sfd`` | ``gcd`` | ``actual`` per row
    modes : mode per row

    Returns
    -------
    distance_km : [km] on the standard's basis
    rule : the rule applied per row (``as_given``, ``actual/1.05``, ``actual/1.15``,
        ``actual-95km``, ``actual=sfd``, ``gcd_as_given``, ``sfd_as_given``)

    References
    ----------
    CLECAT/UBA guide to ISO 14083 (2024), Table 3, pp. 22–23; ISO 14083:2023 clause 7.2.
    """
    d = np.asarray(distance_km, dtype=np.float64)
    b = np.asarray(bases)
    m = np.asarray(modes)
    actual = b == "actual"
    std = np.select(
        [actual & (m == "road"), actual & (m == "sea"), actual & (m == "air")],
        [actual_to_sfd_road(d), actual_to_sfd_sea(d), actual_to_gcd_air(d)],
        default=d,
    )
    rule = np.select(
        [
            actual & (m == "road"), actual & (m == "sea"), actual & (m == "air"), actual,
            (b == "gcd") & (m != "air"), (b == "sfd") & (m == "air"),
        ],
        ["actual/1.05", "actual/1.15", "actual-95km", "actual=sfd", "gcd_as_given",
         "sfd_as_given"],
        default="as_given",
    ).astype(object)
    return std, rule


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


def haversine_km(
    lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike,
    radius_km: float = EARTH_RADIUS_KM,
) -> NDArray[np.float64]:
    """Great-circle distance on a sphere (haversine formula). For comparison only.

    Parameters
    ----------
    lat1, lon1, lat2, lon2 : [degrees]
    radius_km : [km] sphere radius (default the IUGG mean radius 6,371.0088 km)

    References
    ----------
    Sinnott, R. W. (1984), Virtues of the haversine, *Sky and Telescope* 68(2): 159.
    """
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(np.asarray(lon2, dtype=np.float64) - np.asarray(lon1, dtype=np.float64))
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return np.asarray(2 * radius_km * np.arcsin(np.sqrt(h)), dtype=np.float64)


def modelled_surface_km(
    gcd_km: ArrayLike, circuity: float = DEFAULT_CIRCUITY
) -> NDArray[np.float64]:
    """Road/rail distance modelled from coordinates: ``GCD × circuity``.

    Parameters
    ----------
    gcd_km : [km]
    circuity : [-] ratio of network to great-circle distance (see :data:`DEFAULT_CIRCUITY`)

    References
    ----------
    transport.md: "GCD × a circuity factor ... is a *modelled* distance and must be labelled
    so" (CLECAT guide p. 18 on data types).
    """
    return np.asarray(gcd_km, dtype=np.float64) * circuity


@lru_cache(maxsize=100_000)
def _searoute_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    import searoute

    if (lon1, lat1) == (lon2, lat2):
        return 0.0
    route = searoute.searoute((lon1, lat1), (lon2, lat2), units="km", algorithm="astar")
    return float(route.properties["length"])


_ADJACENCY: dict[int, tuple[object, dict[object, list[tuple[object, float]]]]] = {}


def _adjacency(graph: object, restrictions: list[object]
               ) -> dict[object, list[tuple[object, float]]]:
    """The marnet graph as ``node -> [(neighbour, cost), ...]`` in networkx's edge order.

    ``cost`` is what searoute's weight function returns (``inf`` on a restricted passage);
    edges whose weight is None are left out, as networkx's Dijkstra skips them. Built once
    per process (the graph is a searoute singleton).
    """
    key = id(graph)
    hit = _ADJACENCY.get(key)
    if hit is not None and hit[0] is graph:
        return hit[1]
    inf = float("inf")
    adj: dict[object, list[tuple[object, float]]] = {}
    for v, nbrs in graph._adj.items():  # type: ignore[attr-defined]
        row = []
        for u, data in nbrs.items():
            cost = inf if data.get("passage") in restrictions else data.get("weight")
            if cost is not None:
                row.append((u, cost))
        adj[v] = row
    _ADJACENCY[key] = (graph, adj)
    return adj


def _dijkstra_parents(adj: dict[object, list[tuple[object, float]]], source: object,
                      targets: set[object]) -> dict[object, object]:
    """Shortest-path parent of each settled node, from ``source``, stopping once every node of
    ``targets`` is settled.

    The same search, visiting order and tie-breaking as networkx's ``_dijkstra_multisource``
    (the path to a node is the one that first reached its final distance; heap ordered by
    (distance, insertion count)), so the paths are identical to
    ``networkx.single_source_dijkstra``'s; parents instead of copied path lists, and the
    early stop, make it ~10× faster. A node settled is final, so stopping early changes no
    settled path.
    """
    from heapq import heappop, heappush
    from itertools import count

    dist: dict[object, float] = {}
    seen: dict[object, float] = {source: 0}
    parent: dict[object, object] = {}
    c = count()
    fringe: list[tuple[float, int, object]] = [(0, next(c), source)]
    left = set(targets)
    while fringe:
        dist_v, _, v = heappop(fringe)
        if v in dist:
            continue
        dist[v] = dist_v
        left.discard(v)
        if not left:
            break
        for u, cost in adj[v]:
            vu_dist = dist_v + cost
            if u in dist:
                continue
            if u not in seen or vu_dist < seen[u]:
                seen[u] = vu_dist
                heappush(fringe, (vu_dist, next(c), u))
                parent[u] = v
    settled = dist.keys()
    return {k: p for k, p in parent.items() if k in settled}


def _sea_lengths_from(origin: tuple[float, float],
                      destinations: list[tuple[float, float]]) -> list[float]:
    """searoute lengths from one origin to many destinations with ONE Dijkstra search.

    Same graph, snapping, restrictions (searoute's default: no Northwest Passage), path
    post-processing and length formula as ``searoute.searoute``; only the search is
    single-source instead of one bidirectional search per pair (:func:`_dijkstra_parents`,
    which finds the same paths as networkx's single-source Dijkstra). Falls back to the
    public API if searoute's internals change.
    """
    try:
        from searoute.classes.passages import Passage
        from searoute.searoute import get_graphs
        from searoute.utils import distance_length, process_route

        graph, _ = get_graphs(None, None, "networkx")
        graph.restrictions = [Passage.northwest]
        adj = _adjacency(graph, graph.restrictions)
        src = graph.kdtree.query(origin)
        ends = [graph.kdtree.query(dest) for dest in destinations]
        parent = _dijkstra_parents(adj, src, set(ends))
        out = []
        for dest, end in zip(destinations, ends, strict=True):
            if dest == origin:
                out.append(0.0)
                continue
            if end != src and end not in parent:
                out.append(float("nan"))
                continue
            path = [end]
            while path[-1] != src:
                path.append(parent[path[-1]])
            path.reverse()
            line, _ = process_route(path, graph, False)
            out.append(float(distance_length(line, units="km")))
        return out
    except (ImportError, AttributeError, TypeError):  # pragma: no cover - searoute changed
        return [_searoute_km(*origin, *dest) for dest in destinations]


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
    """True where latitude is in [−90, 90] and longitude in [−180, 180] (WGS84 degrees)."""
    la = np.asarray(lat, dtype=np.float64)
    lo = np.asarray(lon, dtype=np.float64)
    return (np.abs(la) <= 90.0) & (np.abs(lo) <= 180.0)

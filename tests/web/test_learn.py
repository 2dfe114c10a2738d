"""The Learn pages (no browser): each renders its inputs in English and Chinese, and its run
returns the engine's own intermediate values, equal to the same engine called here through the
Python API and, where the user guide prints the worked example's result, to that figure
(cited at each test)."""

from __future__ import annotations

import html
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hesuan.examples import path as example_path
from hesuan.registry.api import create_app
from hesuan.registry.engine import Registry
from hesuan.web import i18n, mount
from hesuan.web.settings import WebSettings

PAGES = ["transport", "land", "ipcc", "gep", "seea", "habitat", "quantification"]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    folder: Path = tmp_path_factory.mktemp("weblearn")
    reg = Registry.open(f"sqlite:///{folder / 'registry.db'}")
    reg.bootstrap()
    app = mount(create_app(reg), WebSettings.from_env(folder / "state"))
    try:
        yield TestClient(app)
    finally:
        reg.close()


@pytest.fixture
def fresh_examples() -> Iterator[None]:
    """Empty the cache of the Learn examples before and after the test: an example computed
    with a patched engine must not stay cached for the other tests."""
    from hesuan.web.routes import learn

    examples = (learn._case_a, learn._land, learn._ipcc, learn._gep, learn._seea,
                learn._habitat, learn._quantification)
    for example in examples:
        example.cache_clear()
    yield
    for example in examples:
        example.cache_clear()


def _run(client: TestClient, name: str, lang: str = "en") -> str:
    """POST the page's run form (with its CSRF token); return the fragment as text."""
    found = re.search(r'name="csrf" value="([0-9a-f]+)"',
                      client.get(f"/web/learn/{name}").text)
    assert found
    r = client.post(f"/web/learn/{name}/run", data={"csrf": found.group(1)},
                    headers={"Accept-Language": lang, "HX-Request": "true"})
    assert r.status_code == 200, r.text
    return html.unescape(r.text)


def _untranslated(text: str) -> list[str]:
    """UI phrases of the catalogue (two words or more) left in English in a Chinese text."""
    from .test_i18n import extracted

    zh = i18n.translations("zh")
    body = re.sub(r"<code>.*?</code>", "", text, flags=re.S)
    return [m for m in extracted() if len(m.split()) >= 2 and "%(" not in m
            and zh.gettext(m) != m and m in body]


def _n(value: float, digits: int) -> str:
    """A number as the English page writes it."""
    token = i18n.current.set("en")
    try:
        return i18n.number(value, digits)
    finally:
        i18n.current.reset(token)


@pytest.mark.parametrize("name", ["", *PAGES])
def test_page_renders_in_both_languages(client: TestClient, name: str) -> None:
    en = client.get(f"/web/learn/{name}".rstrip("/"), headers={"Accept-Language": "en"})
    zh = client.get(f"/web/learn/{name}".rstrip("/"), headers={"Accept-Language": "zh"})
    assert en.status_code == zh.status_code == 200
    assert 'id="learn-run"' in en.text or name == ""
    assert "<h1>学习" in zh.text  # the Chinese title, not the English source string
    for link in PAGES:
        if name == "":
            assert f'href="/web/learn/{link}"' in en.text
    assert _untranslated(html.unescape(zh.text)) == []
    if name:
        assert _untranslated(_run(client, name, "zh")) == []


def test_ipcc_soc_steps_are_the_engine_values(client: TestClient) -> None:
    from hesuan.land.ipcc.tables import soc_change

    text = _run(client, "ipcc")
    frame = soc_change(example_path("land", "ipcc", "soc_strata.csv"), "2006")
    for r in frame.iter_rows(named=True):
        for key in ("soc_before_t_c", "soc_now_t_c", "change_t_c_per_yr", "co2_t_per_yr"):
            assert _n(r[key], 2) in text, (r["stratum"], key)
        assert r["soc_ref_source"] in text
    # docs/land.md, IPCC Tier 1, "Soil carbon, both editions", 2006 column:
    # 455.4, 78.33 and 2521.3 t C/yr
    assert [round(v, 2) for v in frame["change_t_c_per_yr"]] == [455.4, 78.33, 2521.3]
    computed = ", ".join(_n(v, 2) for v in frame["change_t_c_per_yr"])
    assert f"hesuan computed {computed} t C/yr" in text
    zh = _run(client, "ipcc", "zh")
    assert "年变化量" in zh and "参考碳储量" in zh


def test_gep_steps_are_the_engine_values(client: TestClient) -> None:
    from hesuan.land.gep.raster import ClimateParameters
    from hesuan.land.gep.run import run

    text = _run(client, "gep")
    folder = example_path("gep", "layers.csv").parent
    with tempfile.TemporaryDirectory() as out:
        account = run("gep_garze2010@2017", out, quantities=folder / "quantities.csv",
                      layers=folder / "layers.csv", types=folder / "types.csv",
                      whole_map="county", price_index=folder / "price_index.csv",
                      gdp=folder / "gdp.csv", constant_year=2020,
                      climate=ClimateParameters(ac_days=90, ac_efficiency=3.0, source="test"),
                      write_maps=False).account
    water = next(r for r in account.rows if r.year == 2020 and r.ecosystem_type == "forest"
                 and r.indicator == "regulating.water_conservation.volume")
    for v in (water.quantity, water.value.amount, water.value_current.amount):
        assert _n(v, 0) in text
    for t in account.by_category:
        assert _n(t.current.amount, 0) in text
    for _r, _y, ratio in account.gdp_ratio:
        assert _n(ratio, 3) in text
    # docs/gep.md §2 (the worked example): forest water conservation 2020 93.6 million m³,
    # 6.61 亿元 at 2010 prices, 8.43 亿元 at 2020 prices; GEP 2020 69.9310 亿元, GEP/GDP 0.463
    assert round(water.quantity / 1e6, 1) == 93.6
    assert round(water.value.amount / 1e8, 2) == 6.61
    assert round(water.value_current.amount / 1e8, 2) == 8.43
    gep = account.total("gep", year=2020).current.amount
    assert round(gep / 1e8, 4) == 69.9310
    assert f"hesuan computed {_n(gep, 0)} CNY" in text
    assert "水源涵养量" in text
    assert "由栅格计算实物量" in _run(client, "gep", "zh")


def test_seea_extent_steps_are_the_engine_values(client: TestClient) -> None:
    from hesuan.land.seea import change_matrix_from_rasters, extent_account

    text = _run(client, "seea")
    names = ["forest", "shrub", "grassland", "wetland", "farmland", "town"]
    matrix = change_matrix_from_rasters(example_path("gep", "ecosystem_2015.tif"),
                                        example_path("gep", "ecosystem_2020.tif"),
                                        [1, 2, 3, 4, 5, 6], names)
    account = extent_account(matrix, [(5, 1), (3, 6)])
    cells = re.findall(r'<td class="num">([^<]+)</td>', text)
    assert [_n(v, 1) for row in matrix.area_ha for v in row][:6] == cells[:6]
    for _label, values in account.rows():
        assert "".join(f'<td class="num">{_n(v, 1)}</td>' for v in values) in text
    # docs/seea.md, "Extent account and change matrix", on the bundled county: forest
    # 10 000 → 11 879 ha (+1 879 managed expansion from farmland), grassland 6 276 → 5 323 ha,
    # farmland 5 300 → 3 421 ha, town 2 500 → 3 453 ha; 31 976 ha at both ends
    assert (account.opening[0], account.closing[0], account.managed_expansion[0]) == (
        10000, 11879, 1879)
    assert (account.opening[2], account.closing[2]) == (6276, 5323)
    assert (account.opening[4], account.closing[4]) == (5300, 3421)
    assert (account.opening[5], account.closing[5]) == (2500, 3453)
    assert sum(account.opening) == sum(account.closing) == 31976
    assert ("hesuan computed forest 10,000 → 11,879 ha, grassland 6,276 → 5,323 ha, 31,976 ha"
            in text)
    assert "期末" in _run(client, "seea", "zh")


def test_habitat_steps_are_the_engine_values(client: TestClient, tmp_path: Path) -> None:
    """The user guide prints no result of this example: the figures are the engine's own."""
    from hesuan.land.habitat import run
    from hesuan.land.habitat.condition import condition_variables
    from hesuan.land.seea import condition_indices
    from hesuan.web.land_analyses import habitat_example

    text = _run(client, "habitat")
    files = habitat_example(tmp_path)
    runs = {key: run(files[key], files[f"threats_{key}"], files["sensitivity"],
                     tmp_path / key, half_saturation=0.25).summary for key in ("lulc", "alt")}
    for s in runs.values():
        for c in s.classes:
            row = (f'<td class="num">{_n(c.mean_degradation, 4)}</td>'
                   f'<td class="num">{_n(c.mean_quality, 4)}</td>')
            assert row in text, c.name
        assert _n(s.max_degradation, 4) in text
    for t in runs["lulc"].threats:
        assert _n(t.weight_normalised, 4) in text
    # InVEST user guide, Habitat Quality: Q = H_j without threats, H_j/2 where D = k; the
    # SEEA indicator is Q̄_j/H_j (SEEA EA 2021 §5.61)
    indices = condition_indices(condition_variables(runs["lulc"], runs["alt"]))
    forest = next(c for c in runs["lulc"].classes if c.name == "forest")
    assert indices["forest"].opening == pytest.approx(forest.mean_quality / forest.habitat)
    for et, i in indices.items():
        assert (f'<td>{et}</td><td class="num">{_n(i.opening, 4)}</td>'
                f'<td class="num">{_n(i.closing, 4)}</td>') in text
    assert "半饱和常数" in client.get("/web/learn/habitat",
                                   headers={"Accept-Language": "zh"}).text


def test_quantification_steps_are_the_report(client: TestClient) -> None:
    """Every step of both reports with its function, clause and outputs, then the deduction,
    the net creditable units and the vintages. docs/quantification.md prints no result of the
    bundled example; it states the rules checked here: the units are the net removals rounded
    down, split over calendar years by days so that the vintages add up exactly."""
    from hesuan.quantification import quantify

    text = _run(client, "quantification")
    reports = quantify(example_path("quantification", "project.toml"))
    assert len(reports) == 2
    for r in reports:
        assert f"Monitoring period {r.period_start} to {r.period_end}" in text
        for s in r.steps:
            assert f"<code>{s.function}</code>" in text and html.unescape(s.clause) in text
            for k, v in s.outputs.items():
                if isinstance(v, float):
                    assert f"<code>{k}</code> = {_n(v, 4)}" in text, (s.name, k)
        u, rem = r.uncertainty, r.removals
        assert f"u = {_n(u.relative_half_width, 4)}" in text
        assert f"= {_n(u.deduction_t_co2e, 2)} t CO2e" in text
        assert f"= {_n(rem.net_t_co2e, 2)} t CO2e" in text
        assert rem.net_creditable_units == int(rem.net_creditable_t_co2e // 1)
        assert sum(v.units for v in r.vintages) == rem.net_creditable_units
        for v in r.vintages:
            assert (f'<td>{v.year}</td><td class="num">{v.days}</td>'
                    f'<td class="num">{_n(v.units, 0)}</td>') in text
    assert reports[1].uncertainty.deduction_t_co2e > 0  # the second period shows a deduction
    assert "不确定性扣减" in _run(client, "quantification", "zh")


def test_a_result_that_differs_from_the_guide_is_shown_as_a_mismatch(
        client: TestClient, monkeypatch: pytest.MonkeyPatch, fresh_examples: None) -> None:
    """The page compares the engine's numbers with the user guide's printed figures
    (docs/land.md, docs/gep.md, docs/seea.md) at the printed precision: an engine result
    off by more than half the last printed digit is a mismatch, in words, not a green ok."""
    import dataclasses

    import hesuan.land.ipcc.tables as ipcc_tables
    from hesuan.web.routes import learn

    soc_change = ipcc_tables.soc_change

    def off(*args: object, **kwargs: object):  # 455.4 printed: 455.46 no longer rounds to it
        import polars as pl

        frame = soc_change(*args, **kwargs)
        return frame.with_columns(pl.when(pl.col("stratum") == "notill_maize")
                                  .then(pl.col("change_t_c_per_yr") + 0.06)
                                  .otherwise(pl.col("change_t_c_per_yr")))

    monkeypatch.setattr(ipcc_tables, "soc_change", off)
    text = _run(client, "ipcc")
    assert 'class="ok"' not in text and 'role="alert"' in text
    assert "differ at the guide's precision" in text and "455.4, 78.33, 2,521.3" in text

    gep = learn._gep()
    account = gep["account"]
    by_category = tuple(dataclasses.replace(t, current=dataclasses.replace(
        t.current, amount=t.current.amount + 6000)) if t.key == "gep" else t
        for t in account.by_category)  # 69.9310 亿元 printed: ±5 000 CNY round to it
    monkeypatch.setattr(learn, "_gep", lambda: {
        **gep, "account": dataclasses.replace(account, by_category=by_category)})
    text = _run(client, "gep")
    assert 'class="ok"' not in text and "differ at the guide's precision" in text

    seea = learn._seea()
    extent = seea["account"]
    closing = tuple(v + 1 if name == "forest" else v
                    for name, v in zip(extent.names, extent.closing, strict=True))
    monkeypatch.setattr(learn, "_seea", lambda: {
        **seea, "account": dataclasses.replace(extent, closing=closing)})
    text = _run(client, "seea")
    assert 'class="ok"' not in text and "differ at the guide's precision" in text
    assert "hesuan computed forest 10,000 → 11,880 ha" in text
    assert "按指南的精度两者不一致" in _run(client, "seea", "zh")


def test_the_seea_check_finds_the_types_by_name(client: TestClient,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 fresh_examples: None) -> None:
    """The same account with its ecosystem types in another order agrees with the guide just
    the same (docs/seea.md: forest 10 000 → 11 879 ha, grassland 6 276 → 5 323 ha)."""
    import dataclasses

    from hesuan.web.routes import learn

    seea = learn._seea()
    extent = seea["account"]
    reversed_ = dataclasses.replace(extent, **{
        f.name: tuple(reversed(getattr(extent, f.name)))
        for f in dataclasses.fields(extent)})
    monkeypatch.setattr(learn, "_seea", lambda: {**seea, "account": reversed_})
    text = _run(client, "seea")
    assert 'class="ok"' in text and 'role="alert"' not in text
    assert "hesuan computed forest 10,000 → 11,879 ha, grassland 6,276 → 5,323 ha" in text


def test_each_example_is_computed_once_per_process(client: TestClient,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    fresh_examples: None) -> None:
    """The public run buttons do not rerun the models: two POSTs run the engine once (the
    habitat example: its 2020 and its 2030 map, once each), and what the cache hands out
    cannot be changed by a request."""
    from collections import Counter
    from collections.abc import Callable

    import hesuan.land.habitat as habitat
    import hesuan.land.ipcc.tables as ipcc_tables
    from hesuan.web.routes import learn

    calls: Counter[str] = Counter()

    def counted(name: str, engine: Callable[..., object]) -> Callable[..., object]:
        def call(*args: object, **kwargs: object) -> object:
            calls[name] += 1
            return engine(*args, **kwargs)
        return call

    monkeypatch.setattr(habitat, "run", counted("habitat", habitat.run))
    monkeypatch.setattr(ipcc_tables, "soc_change", counted("ipcc", ipcc_tables.soc_change))
    assert _run(client, "habitat") == _run(client, "habitat")
    assert calls["habitat"] == 2
    assert _run(client, "ipcc") == _run(client, "ipcc")
    assert calls["ipcc"] == 1
    with pytest.raises(TypeError):
        learn._ipcc()[0]["change_t_c_per_yr"] = 0.0  # type: ignore[index]
    with pytest.raises(TypeError):
        learn._habitat()["opening"] = None  # type: ignore[index]
    with pytest.raises(ValueError, match="read-only"):
        learn._seea()["matrix"].area_ha[0, 0] = 0.0

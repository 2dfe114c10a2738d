// hesuan web: charts from <script type="application/json" data-chart> blocks, result maps
// from <div data-map> elements. No inline scripts anywhere (the CSP forbids them).
(function () {
  "use strict";
  var palette = ["#1d4d38", "#2f7d5b", "#4fa37c", "#8cc7a6", "#c3e3cf", "#0b4f8a", "#6a8caf"];

  function drawCharts(root) {
    if (typeof Chart === "undefined") { return; }
    root.querySelectorAll("script[type='application/json'][data-chart]").forEach(function (el) {
      var canvas = document.getElementById(el.getAttribute("data-chart"));
      if (!canvas || canvas.dataset.drawn) { return; }
      var spec = JSON.parse(el.textContent);
      canvas.dataset.drawn = "1";
      new Chart(canvas, {
        type: spec.kind || "bar",
        data: { labels: spec.labels, datasets: [{ label: spec.title + " [" + spec.unit + "]",
                data: spec.values, backgroundColor: palette }] },
        options: { responsive: true, maintainAspectRatio: false, animation: false,
                   plugins: { legend: { display: false } },
                   scales: { y: { beginAtZero: true, title: { display: true, text: spec.unit } } } }
      });
    });
  }

  function drawMaps(root) {
    if (typeof L === "undefined") { return; }
    root.querySelectorAll("div[data-map]").forEach(function (el) {
      if (el.dataset.drawn) { return; }
      el.dataset.drawn = "1";
      var spec = JSON.parse(document.getElementById(el.getAttribute("data-map")).textContent);
      var map = L.map(el, { attributionControl: true });
      var layers = {};
      spec.layers.forEach(function (layer, i) {
        var overlay = L.imageOverlay(layer.url, spec.bounds, { opacity: 0.85, alt: layer.title });
        layers[layer.title] = overlay;
        if (i === 0) { overlay.addTo(map); }
      });
      if (spec.regions) {
        var regions = L.geoJSON(spec.regions, { style: { color: "#111", weight: 1, fill: false } });
        regions.addTo(map);
        layers[spec.regions_title] = regions;
      }
      L.control.layers(layers, {}, { collapsed: false }).addTo(map);
      map.fitBounds(spec.bounds);
      map.attributionControl.addAttribution(spec.attribution || "hesuan");
    });
  }

  function init(root) { drawCharts(root); drawMaps(root); }
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSettle", function (evt) { init(evt.target); });
})();

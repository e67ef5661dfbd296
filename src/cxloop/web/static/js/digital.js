// Digital overview: the DXS trend chart (data from a JSON script tag; CSP allows no inline JS).
(function () {
  "use strict";
  function draw() {
    var el = document.getElementById("dxs-trend-chart");
    var src = document.getElementById("dxs-trend-data");
    if (!el || !src || !window.Plotly) return;
    var points = JSON.parse(src.textContent || "[]");
    var days = points.map(function (p) { return p.day; });
    window.Plotly.newPlot(el, [
      { x: days, y: points.map(function (p) { return p.mean_dxs; }), type: "scatter",
        mode: "lines+markers", name: el.getAttribute("data-label-dxs") },
      { x: days, y: points.map(function (p) { return 100 * p.frustrated_share; }), type: "bar",
        name: el.getAttribute("data-label-share"), yaxis: "y2", opacity: 0.35 }
    ], {
      margin: { t: 10, r: 50, b: 40, l: 40 },
      yaxis: { range: [0, 10], title: { text: "DXS" } },
      yaxis2: { range: [0, 100], overlaying: "y", side: "right", ticksuffix: " %" },
      legend: { orientation: "h" }
    }, { displayModeBar: false, responsive: true });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();

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

// DXS and survey scores: NPS and CSAT top-2 share per DXS band (data from a JSON script tag).
(function () {
  "use strict";
  function draw() {
    var el = document.getElementById("dxs-survey-chart");
    var src = document.getElementById("dxs-survey-data");
    if (!el || !src || !window.Plotly) return;
    var bins = JSON.parse(src.textContent || "[]");
    var bands = bins.map(function (b) { return b.low + "–" + b.high; });
    window.Plotly.newPlot(el, [
      { x: bands, y: bins.map(function (b) { return b.nps; }), type: "bar",
        name: el.getAttribute("data-label-nps"), text: bins.map(function (b) { return "n=" + b.n; }) },
      { x: bands, y: bins.map(function (b) { return b.csat_top2; }), type: "scatter",
        mode: "lines+markers", name: el.getAttribute("data-label-csat"), yaxis: "y2",
        text: bins.map(function (b) { return "n=" + b.csat_n; }) }
    ], {
      margin: { t: 10, r: 50, b: 40, l: 40 },
      xaxis: { title: { text: el.getAttribute("data-label-band") } },
      yaxis: { range: [-100, 100], title: { text: "NPS" } },
      yaxis2: { range: [0, 100], overlaying: "y", side: "right", ticksuffix: " %" },
      legend: { orientation: "h" }
    }, { displayModeBar: false, responsive: true });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();

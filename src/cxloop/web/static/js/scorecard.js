// Trend sparklines for the scorecard; the data comes in a JSON block (CSP: no inline JS).
(function () {
  function draw() {
    var block = document.getElementById("scorecard-data");
    if (!block || typeof Plotly === "undefined") return;
    var data = JSON.parse(block.textContent || "{}");
    document.querySelectorAll(".spark[data-kpi-id]").forEach(function (el) {
      var s = data[el.getAttribute("data-kpi-id")];
      if (!s) return;
      var traces = [{ x: s.x, y: s.y, mode: "lines+markers", connectgaps: false,
                      line: { width: 2, color: "#1f5fbf" }, marker: { size: 3 },
                      hoverinfo: "x+y" }];
      if (s.target !== null && s.target !== undefined) {
        traces.push({ x: [s.x[0], s.x[s.x.length - 1]], y: [s.target, s.target], mode: "lines",
                      line: { width: 1, dash: "dot", color: "#5a6478" }, hoverinfo: "skip" });
      }
      Plotly.newPlot(el, traces, {
        width: 160, height: 44, margin: { l: 2, r: 2, t: 2, b: 2 }, showlegend: false,
        xaxis: { visible: false }, yaxis: { visible: false },
        paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)"
      }, { displayModeBar: false, staticPlot: false, responsive: false }).then(function () {
        el.setAttribute("data-rendered", "1");
      });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();

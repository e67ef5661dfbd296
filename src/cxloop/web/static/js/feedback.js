// Job progress on the themes page: poll unfinished jobs and update their row in place.
(function () {
  function refresh(row) {
    var id = row.getAttribute("data-job-id");
    fetch("/api/v1/feedback/jobs/" + encodeURIComponent(id), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (job) {
        if (!job) return;
        var bar = row.querySelector("progress");
        bar.max = job.total || 1;
        bar.value = job.processed;
        row.querySelector(".job-count").textContent = job.processed + " / " + job.total;
        row.querySelector(".job-status").textContent = job.status + (job.error ? ": " + job.error : "");
        row.setAttribute("data-job-status", job.status);
        if (job.status === "queued" || job.status === "running") {
          setTimeout(function () { refresh(row); }, 2000);
        }
      });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var rows = document.querySelectorAll("tr[data-job-id]");
    for (var i = 0; i < rows.length; i++) {
      var status = rows[i].getAttribute("data-job-status");
      if (status === "queued" || status === "running") refresh(rows[i]);
    }
  });
})();

// Explorer: records per week by sentiment, stacked bars. The data comes in a JSON block
// (CSP: no inline JS); Plotly is served by /static-plotly/plotly.min.js.
(function () {
  var COLOURS = {
    very_negative: "#a61b1b", negative: "#e0603a", mixed: "#b58f2a",
    neutral: "#9aa3b2", positive: "#4c9f70", very_positive: "#1d6b45"
  };
  function draw() {
    var block = document.getElementById("feedback-weekly-data");
    var el = document.getElementById("feedback-weekly-chart");
    if (!block || !el || typeof Plotly === "undefined") return;
    var data = JSON.parse(block.textContent || "{}");
    var traces = (data.series || []).map(function (s) {
      return { type: "bar", name: s.name, x: data.weeks, y: s.counts,
               marker: { color: COLOURS[s.label] || "#1f5fbf" },
               hovertemplate: "%{x}: %{y}<extra>" + s.name + "</extra>" };
    });
    Plotly.newPlot(el, traces, {
      barmode: "stack", height: 220, margin: { l: 36, r: 8, t: 8, b: 32 },
      legend: { orientation: "h", y: -0.25, font: { size: 10 } },
      xaxis: { type: "date", tickformat: "%m/%d" }, yaxis: { rangemode: "tozero" },
      paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)"
    }, { displayModeBar: false, responsive: true }).then(function () {
      el.setAttribute("data-rendered", "1");
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();

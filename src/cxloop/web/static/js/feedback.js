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

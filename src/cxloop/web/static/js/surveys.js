// Hosted survey form: save each answer as it is given and apply the display logic.
(function () {
  var form = document.querySelector("form[data-survey-form]");
  if (!form) return;
  var status = document.querySelector("[data-progress]");
  var url = form.getAttribute("data-answer-url");

  function show(visible) {
    form.querySelectorAll("fieldset[data-conditional]").forEach(function (fs) {
      var on = visible.indexOf(fs.getAttribute("data-qid")) >= 0;
      fs.classList.toggle("sv-off", !on);
      fs.disabled = !on;
    });
  }
  // With script, questions whose condition is unmet start hidden (without, all show).
  form.querySelectorAll("fieldset[data-hidden]").forEach(function (fs) {
    fs.classList.add("sv-off");
    fs.disabled = true;
  });

  function save(qid) {
    var body = new URLSearchParams();
    body.append("form_key", form.querySelector("input[name=form_key]").value);
    form.querySelectorAll('[name="q_' + qid + '"]').forEach(function (el) {
      if ((el.type === "radio" || el.type === "checkbox") && !el.checked) return;
      body.append(el.name, el.value);
    });
    var err = form.querySelector('[data-error-for="' + qid + '"]');
    fetch(url + "&q=" + encodeURIComponent(qid), {
      method: "POST",
      body: body,
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      credentials: "same-origin",
    })
      .then(function (r) {
        return r.json().then(function (data) { return { ok: r.ok, data: data }; });
      })
      .then(function (res) {
        if (res.ok) {
          if (err) { err.hidden = true; err.textContent = ""; }
          show(res.data.visible || []);
          status.textContent = status.getAttribute("data-saved");
          form.setAttribute("data-saved-count", String((+form.getAttribute("data-saved-count") || 0) + 1));
        } else if (res.data && res.data.error) {
          if (err) { err.hidden = false; err.textContent = res.data.error.message; }
          status.textContent = status.getAttribute("data-failed");
        }
      })
      .catch(function () { status.textContent = status.getAttribute("data-failed"); });
  }

  form.addEventListener("change", function (event) {
    var fs = event.target.closest("fieldset[data-qid]");
    if (fs) save(fs.getAttribute("data-qid"));
  });
})();

// Case page: a root cause is required when resolving or closing (checked again on the server).
document.addEventListener("DOMContentLoaded", function () {
  var select = document.querySelector("[data-testid=status-select]");
  var cause = document.querySelector("[data-testid=root-cause-select]");
  if (!select || !cause) return;
  var needs = (select.getAttribute("data-resolving") || "").split(" ");
  function update() { cause.required = needs.indexOf(select.value) !== -1 && !cause.value; }
  select.addEventListener("change", update);
  cause.addEventListener("change", update);
  update();
});

// The fixture pages' own behaviour (no inline handlers: the app's CSP forbids them).
document.getElementById("more").addEventListener("click", function () {
  document.getElementById("details").hidden = false;
});

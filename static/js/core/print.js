// A print button without inline script.
document.querySelectorAll("[data-print]").forEach(function (el) {
  el.addEventListener("click", function (e) { e.preventDefault(); window.print(); });
});

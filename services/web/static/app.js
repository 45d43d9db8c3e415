// Balise: the little the pages need beyond HTMX (CSP forbids inline scripts).
document.addEventListener("change", function (event) {
  var el = event.target;
  if (el && el.matches && el.matches("select[data-navigate]") && el.value) {
    window.location.assign(el.value);
  }
});

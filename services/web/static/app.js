// Balise: the little the pages need beyond HTMX (CSP forbids inline scripts).
document.addEventListener("change", function (event) {
  var el = event.target;
  if (el && el.matches && el.matches("select[data-navigate]") && el.value) {
    window.location.assign(el.value);
  }
});

// Calendar: drag an item onto another day; the item keeps its time (the form moves both).
document.addEventListener("dragstart", function (event) {
  var item = event.target.closest && event.target.closest("[data-item]");
  if (item) { event.dataTransfer.setData("text/plain", item.getAttribute("data-item")); }
});
document.addEventListener("dragover", function (event) {
  var day = event.target.closest && event.target.closest("[data-drop]");
  if (day) { event.preventDefault(); day.classList.add("drop-over"); }
});
document.addEventListener("dragleave", function (event) {
  var day = event.target.closest && event.target.closest("[data-drop]");
  if (day) { day.classList.remove("drop-over"); }
});
document.addEventListener("drop", function (event) {
  var day = event.target.closest && event.target.closest("[data-drop]");
  if (!day || !window.htmx) { return; }
  event.preventDefault();
  day.classList.remove("drop-over");
  var id = event.dataTransfer.getData("text/plain");
  if (!/^[0-9]+$/.test(id)) { return; }
  window.htmx.ajax("POST", day.getAttribute("data-drop") + "/" + id + "/move", {
    values: { day: day.getAttribute("data-day") }, source: day
  });
});

// The imports page: show the upload's progress (htmx reports it while sending the file);
// the import job's own progress then takes over (components/_job.html).
document.addEventListener("htmx:xhr:progress", function (event) {
  var form = event.target && event.target.closest ? event.target.closest("form[data-upload]") : null;
  var bar = document.getElementById("upload-progress");
  if (!form || !bar || !event.detail || !event.detail.lengthComputable) {
    return;
  }
  bar.hidden = false;
  bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
});
document.addEventListener("htmx:afterRequest", function (event) {
  var bar = document.getElementById("upload-progress");
  if (bar && event.target && event.target.matches && event.target.matches("form[data-upload]")) {
    bar.value = 100;
  }
});

// Upload with a progress bar (XHR); without JavaScript the form posts normally.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form || !window.FormData || !window.XMLHttpRequest) { return; }
  var bar = document.getElementById("upload-progress");
  var status = document.getElementById("upload-status");
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.getAttribute("action"));
    xhr.setRequestHeader("Accept", "application/json");
    bar.hidden = false; bar.value = 0; status.textContent = "uploading…";
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) { bar.value = Math.round(100 * e.loaded / e.total); }
    });
    xhr.addEventListener("load", function () {
      var body = {};
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = {}; }
      if (xhr.status === 202 && body.location) {
        bar.value = 100; status.textContent = "uploaded " + body.submission_id;
        window.location.assign(body.location);
      } else {
        status.textContent = "Upload refused (" + xhr.status + "): " + (body.error || body.detail || xhr.statusText);
        status.className = "error";
      }
    });
    xhr.addEventListener("error", function () { status.textContent = "Upload failed: network error"; status.className = "error"; });
    xhr.send(new FormData(form));
  });
})();

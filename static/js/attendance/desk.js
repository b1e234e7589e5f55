// The check-in desk: fresh request ids, camera scanning with jsQR, a live headcount.
(function () {
  "use strict";
  var desk = document.querySelector("[data-desk]");
  if (!desk) { return; }

  function nonce() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    var a = new Uint8Array(16); window.crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // One id per form shown: a double tap sends the same id, so the server counts it once.
  Array.prototype.forEach.call(document.querySelectorAll("[data-request-id]"), function (input) {
    input.value = nonce();
  });
  Array.prototype.forEach.call(document.querySelectorAll("form"), function (form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("button[type=submit]");
      if (button) { window.setTimeout(function () { button.disabled = true; }, 0); }
    });
  });

  // Headcount: refresh every ten seconds.
  var url = desk.getAttribute("data-headcount-url");
  function refresh() {
    fetch(url, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        Object.keys(data).forEach(function (key) {
          var el = desk.querySelector("[data-count='" + key + "']");
          if (el) { el.textContent = String(data[key]); }
        });
      }).catch(function () {});
  }
  window.setInterval(refresh, 10000);

  // Camera scanning: decode frames with jsQR, post the first code found to the look-up.
  var box = desk.querySelector("[data-scanner]");
  var start = desk.querySelector("[data-scan-start]");
  var lookup = desk.querySelector("form[data-lookup]");
  var state = desk.querySelector("[data-scan-state]");
  if (!box || !start || !lookup || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) { return; }
  var video = box.querySelector("video");
  var canvas = document.createElement("canvas");
  var ctx = canvas.getContext("2d", { willReadFrequently: true });
  var stream = null, sent = false;

  function say(text) { if (state) { state.textContent = text; } }

  function tick() {
    if (sent || !stream) { return; }
    if (video.readyState >= 2 && video.videoWidth && typeof window.jsQR === "function") {
      var w = video.videoWidth, h = video.videoHeight, scale = Math.min(1, 800 / Math.max(w, h));
      canvas.width = Math.round(w * scale); canvas.height = Math.round(h * scale);
      ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
      var image = ctx.getImageData(0, 0, canvas.width, canvas.height);
      var found = window.jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
      if (found && found.data) {
        sent = true;
        say("Code read. Looking it up…");
        lookup.querySelector("[name=code]").value = found.data;
        stream.getTracks().forEach(function (t) { t.stop(); });
        lookup.submit();
        return;
      }
    }
    window.requestAnimationFrame(tick);
  }

  function begin() {
    say("Starting the camera…");
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (s) {
        stream = s; box.hidden = false; start.hidden = true;
        video.srcObject = s;
        video.play().catch(function () {});
        say("Hold the ticket's code in front of the camera.");
        window.requestAnimationFrame(tick);
      })
      .catch(function () {
        start.hidden = false;
        say("The camera is not available. Type the code or search by name.");
        box.hidden = false;
      });
  }
  start.hidden = false;
  start.addEventListener("click", begin);
  if (desk.querySelector("#desk-answer") === null && !desk.querySelector("[data-card]")) {
    // A fresh desk starts scanning at once; after an answer, the volunteer taps to scan again.
    begin();
  }
})();

// Draw a signature with finger, pen or mouse; the form sends it as a PNG data URL.
(function () {
  "use strict";
  var canvas = document.getElementById("signature-pad");
  if (!canvas) { return; }
  var input = document.getElementById("signature");
  var clear = document.getElementById("signature-clear");
  var ctx = canvas.getContext("2d");
  var drawing = false, last = null, inked = false;

  function fit() {
    var ratio = 1; // fixed pixel size so the server sees the same image on every device
    canvas.width = 600 * ratio; canvas.height = 200 * ratio;
    ctx.lineWidth = 3; ctx.lineCap = "round"; ctx.lineJoin = "round"; ctx.strokeStyle = "#1f2328";
  }
  function point(e) {
    var r = canvas.getBoundingClientRect();
    return { x: (e.clientX - r.left) * canvas.width / r.width, y: (e.clientY - r.top) * canvas.height / r.height };
  }
  canvas.addEventListener("pointerdown", function (e) {
    drawing = true; last = point(e); canvas.setPointerCapture(e.pointerId); e.preventDefault();
  });
  canvas.addEventListener("pointermove", function (e) {
    if (!drawing) { return; }
    var p = point(e);
    ctx.beginPath(); ctx.moveTo(last.x, last.y); ctx.lineTo(p.x, p.y); ctx.stroke();
    last = p; inked = true; e.preventDefault();
  });
  function end() { if (drawing) { drawing = false; input.value = inked ? canvas.toDataURL("image/png") : ""; } }
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  clear.addEventListener("click", function () { fit(); inked = false; input.value = ""; });
  fit();
})();

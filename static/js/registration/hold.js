// Count down the time left on a held seat, against the server's clock, and say when it ends.
(function () {
  "use strict";
  var hold = document.querySelector(".hold[data-hold-ends]");
  if (!hold) { return; }
  var ends = Date.parse(hold.dataset.holdEnds);
  var offset = Date.parse(hold.dataset.serverNow) - Date.now();
  var left = hold.querySelector(".hold-left");
  if (isNaN(ends) || !left) { return; }
  if (isNaN(offset)) { offset = 0; }
  var timer = null;

  function tick() {
    var ms = ends - (Date.now() + offset);
    if (ms <= 0) {
      window.clearInterval(timer);
      left.textContent = " — the time to pay has run out. Reload the page to see if the seat can still be yours";
      hold.classList.add("hold-ended");
      document.dispatchEvent(new CustomEvent("hold-ended"));
      return;
    }
    var seconds = Math.ceil(ms / 1000);
    var minutes = Math.floor(seconds / 60);
    var rest = seconds % 60;
    left.textContent = " (" + minutes + ":" + (rest < 10 ? "0" : "") + rest + " left)";
  }

  tick();
  timer = window.setInterval(tick, 1000);
})();

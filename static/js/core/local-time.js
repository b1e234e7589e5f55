// Add the visitor's own local time beside times shown in a gathering's time zone.
(function () {
  "use strict";
  var visitorZone;
  try { visitorZone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  var fmt = new Intl.DateTimeFormat(undefined, {
    weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", timeZoneName: "short"
  });
  document.querySelectorAll("time.when[data-tz]").forEach(function (el) {
    if (!visitorZone || el.dataset.tz === visitorZone) { return; }
    var start = new Date(el.getAttribute("datetime"));
    if (isNaN(start)) { return; }
    var probe = { day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
    var there = new Intl.DateTimeFormat("en-GB", Object.assign({ timeZone: el.dataset.tz }, probe));
    var here = new Intl.DateTimeFormat("en-GB", probe);
    if (there.format(start) === here.format(start)) { return; }
    var hint = document.createElement("span");
    hint.className = "your-time";
    hint.textContent = "Your time: " + fmt.format(start);
    el.appendChild(hint);
  });
})();

// Projector: read-only, huge countdown, pairing table, QR to join between rounds.
(function () {
  "use strict";
  var root = document.getElementById("projector");
  var live = new window.Live({ auth: { run_id: Number(root.dataset.runId), projector_token: root.dataset.token } });
  var $ = function (id) { return document.getElementById(id); };
  var table = null, page = 0, PAGE_SIZE = 12;

  live.on("connection", function (ok) { window.Live.text($("conn"), ok ? "" : "Reconnecting…"); });
  live.on("refused", function (err) { window.Live.text($("conn"), window.Live.refusalText(err)); });
  live.on("pairing_table", function (data) { table = data; page = 0; renderTable(); });

  function renderTable() {
    var list = $("pairs");
    list.textContent = "";
    if (!table || !table.groups.length) { $("page").textContent = ""; return; }
    var pages = Math.ceil(table.groups.length / PAGE_SIZE);
    page = page % pages;
    table.groups.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE).forEach(function (g) {
      var li = document.createElement("li");
      li.className = "p-pair";
      li.dataset.spot = g.spot;
      var spot = document.createElement("span");
      spot.className = "p-spot"; spot.textContent = g.spot;
      var names = document.createElement("span");
      names.className = "p-names";
      names.textContent = g.members.map(function (m) { return m.name + " (" + m.role + ")"; }).join("  ·  ");
      li.appendChild(spot); li.appendChild(names);
      list.appendChild(li);
    });
    $("page").textContent = pages > 1 ? "Page " + (page + 1) + " of " + pages : "";
  }
  setInterval(function () { if (table && table.groups.length > PAGE_SIZE) { page += 1; renderTable(); } }, 8000);

  live.tick(function (cur, changed) {
    var s = live.state;
    if (!s) { return; }
    var waiting = !cur || !cur.phase;
    document.body.classList.toggle("waiting", waiting);
    $("join").hidden = !(waiting || (cur.phase && cur.index === 0));
    $("table").hidden = waiting && s.status === "not_started";
    window.Live.text($("round"), s.status === "ended" ? "Finished" : "Round " + (s.round_index + 1) + " of " + s.rounds);
    if (waiting) {
      window.Live.text($("countdown"), s.status === "ended" ? "Thank you" : "–:––");
      window.Live.text($("phase-name"), s.status === "not_started" ? "Starting soon" : (s.status === "between_rounds" ? "Next round soon" : ""));
      window.Live.text($("active"), "");
      window.Live.text($("instruction"), s.status === "ended" ? "" : "Scan the code or type it to join.");
      window.Live.text($("next"), "");
      return;
    }
    window.Live.text($("phase-name"), cur.phase.name + (cur.paused ? " — paused" : ""));
    window.Live.text($("countdown"), window.Live.format(cur.remainingMs));
    window.Live.text($("active"), window.Live.activeText(cur.phase.active));
    window.Live.text($("instruction"), cur.phase.instruction);
    window.Live.text($("next"), cur.next ? "Next: " + cur.next.name : "");
    document.body.classList.toggle("last-ten", !cur.paused && cur.remainingMs <= 10000);
    document.body.classList.toggle("paused", !!cur.paused);
    if (changed) { window.Live.chime(false); }
  });
})();

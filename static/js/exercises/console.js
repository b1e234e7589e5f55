// Facilitator console: controls, presence, support signals, pairing and the next one ahead.
(function () {
  "use strict";
  var root = document.getElementById("console");
  var runId = Number(root.dataset.runId);
  var live = new window.Live({ auth: { run_id: runId, as: "facilitator" } });
  var $ = function (id) { return document.getElementById(id); };
  var alarm = null;

  function uuid() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    return String(Date.now()) + Math.random().toString(16).slice(2);
  }
  function message(text, isError) { var el = $("message"); el.textContent = text || ""; el.classList.toggle("error", !!isError); }

  // Commands sent and not answered yet, by command_id. One whose answer is lost (a timeout,
  // a dropped connection, a server restart) is sent again with the same command_id: the
  // server applies an id once and answers a repeat with "repeated" (docs/live-protocol.md).
  var pending = {}, waiting = false;
  var PHASE_ACTIONS = { adjust: true, next_phase: true, previous_phase: true };

  function send(payload) {
    var entry = pending[payload.command_id];
    entry.tries += 1;
    return live.call("control_run", payload).then(function (answer) {
      if (pending[payload.command_id] !== entry) { return; }   // answered meanwhile by a resend
      if (answer.error === "timeout") {
        if (live.connected && entry.tries < 3) { send(payload); }   // unanswered: ask again
        else { waiting = true; message("No answer yet: the command is sent again once reconnected.", true); }
        return;
      }
      delete pending[payload.command_id];
      if (!answer.ok) { waiting = false; message(answer.message, true); }
      else if (waiting && !Object.keys(pending).length) { waiting = false; message(""); }
    });
  }

  function control(action, delta) {
    var payload = { action: action, command_id: uuid() };
    if (delta) { payload.delta_s = delta; }
    // Say which phase this is for, as shown here, so that a late retry cannot land on the next.
    var cur = live.current();
    if (PHASE_ACTIONS[action] && cur && cur.phase) {
      var round = cur.phase.round_index !== undefined ? cur.phase.round_index : live.state.round_index;
      payload.phase = { round_index: round, phase_index: cur.index };
    }
    message("");
    pending[payload.command_id] = { payload: payload, tries: 0 };
    return send(payload);
  }

  live.on("connection", function (ok) {
    if (!ok) { return; }
    Object.keys(pending).forEach(function (id) { send(pending[id].payload); });
  });

  document.querySelectorAll("[data-action]").forEach(function (btn) {
    btn.addEventListener("click", function () {
      if (btn.dataset.action === "end" && !window.confirm("End this exercise for everyone?")) { return; }
      control(btn.dataset.action, btn.dataset.delta ? Number(btn.dataset.delta) : 0);
    });
  });

  document.addEventListener("keydown", function (e) {
    if (e.target && /INPUT|SELECT|TEXTAREA|BUTTON/.test(e.target.tagName) && e.key !== " ") { return; }
    if (e.target && /INPUT|SELECT|TEXTAREA/.test(e.target.tagName)) { return; }
    var s = live.state;
    if (!s) { return; }
    if (e.key === " ") { e.preventDefault(); control(s.status === "paused" ? "resume" : (s.status === "running" ? "pause" : "start")); }
    else if (e.key === "ArrowRight") { control("next_phase"); }
    else if (e.key === "ArrowLeft") { control("previous_phase"); }
    else if (e.key === "+" || e.key === "=") { control("adjust", 30); }
    else if (e.key === "-" || e.key === "_") { control("adjust", -30); }
  });

  $("add-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var select = $("add-person");
    if (!select.value) { return; }
    live.call("add_participant", { user_id: Number(select.value) }).then(function (answer) {
      if (answer.ok) { select.querySelector('option[value="' + select.value + '"]').remove(); select.value = ""; }
      else { message(answer.message, true); }
    });
  });

  function fillPairs(list, groups) {
    list.textContent = "";
    (groups || []).forEach(function (g) {
      var li = document.createElement("li");
      li.textContent = "Spot " + g.spot + ": " + g.members.map(function (m) { return m.name + " (" + m.role + ")"; }).join(" · ");
      list.appendChild(li);
    });
  }

  var REASONS = {
    sitting_out: "sitting out", odd_rest: "odd number — fair rotation", no_compatible_partner: "no partner fits their boundaries",
    boundaries_exclude_exercise: "boundaries exclude this exercise", no_clean_trio: "no trio possible",
    consent_withdrawn: "consent withdrawn", banned: "banned", agreements_missing: "agreements missing", not_checked_in: "not checked in"
  };

  var refusedShown = false;
  live.on("connection", function (ok) {
    window.Live.text($("conn"), ok ? "Connected" : "Reconnecting…");
    if (ok && refusedShown) { refusedShown = false; message(""); }
  });
  live.on("refused", function (err) {
    refusedShown = true;
    window.Live.text($("conn"), window.Live.retries(err) ? "Reconnecting…" : "Not connected");
    message(window.Live.refusalText(err), true);
  });
  live.on("removed", function (data) {
    live.stop();
    window.Live.text($("conn"), "Not connected");
    message(window.Live.refusalText({ code: data && data.reason }), true);
  });
  live.on("pairing_table", function (t) { fillPairs($("pairs"), t.groups); });
  live.on("support_signal", function () { window.Live.chime(false); });
  // Someone the gathering does not admit tried to join: say who and why (they were told neutrally).
  live.on("entry_refused", function (n) { message(n.message, true); });
  live.on("removed", function () { message("You no longer facilitate this gathering; this console is closed.", true); });
  live.on("facilitator_view", function (v) {
    var present = $("present");
    present.textContent = "";
    v.present.forEach(function (p) {
      var li = document.createElement("li");
      li.dataset.state = p.state;
      li.textContent = p.name + (p.state === "paired" ? "" : " — " + p.state.replace("_", " "));
      present.appendChild(li);
    });
    window.Live.text($("present-count"), "(" + v.present.length + ")");
    if (v.headcount) { window.Live.text($("headcount"), v.headcount.checked_in + " of " + v.headcount.expected); }
    var resting = $("resting");
    resting.textContent = "";
    v.resting.forEach(function (r) {
      var li = document.createElement("li");
      li.textContent = r.name + ": " + (REASONS[r.reason] || r.reason);
      resting.appendChild(li);
    });
    if ("preview" in v) { fillPairs($("preview"), v.preview ? v.preview.groups : []); }
    var list = $("support-list");
    list.textContent = "";
    v.support.forEach(function (s) {
      var li = document.createElement("li");
      li.className = "c-signal";
      li.dataset.signalId = s.signal_id;
      var when = new Date(s.raised_at);
      li.appendChild(document.createTextNode(s.name + " asked for support at " + when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) + " "));
      var btn = document.createElement("button");
      btn.type = "button"; btn.className = "c-btn small"; btn.textContent = "I'm on it";
      btn.addEventListener("click", function () { live.call("acknowledge_support", { signal_id: s.signal_id }); });
      li.appendChild(btn);
      list.appendChild(li);
    });
    $("support").hidden = v.support.length === 0;
    if (v.support.length && !alarm) { alarm = setInterval(function () { window.Live.chime(true); }, 15000); }
    if (!v.support.length && alarm) { clearInterval(alarm); alarm = null; }
  });

  live.tick(function (cur) {
    var s = live.state;
    if (!s) { return; }
    window.Live.text($("round"), s.status === "ended" ? "Finished" : "Round " + (s.round_index + 1) + " of " + s.rounds + " · " + s.status.replace("_", " "));
    window.Live.text($("phase-name"), cur && cur.phase ? cur.phase.name + (cur.paused ? " (paused)" : "") : "");
    window.Live.text($("countdown"), cur && cur.phase ? window.Live.format(cur.remainingMs) : "–:––");
    window.Live.text($("next"), cur && cur.next ? "Next: " + cur.next.name : "");
    var st = s.status;
    root.querySelector('[data-action="start"]').hidden = !(st === "not_started" || st === "between_rounds");
    root.querySelector('[data-action="pause"]').hidden = st !== "running";
    root.querySelector('[data-action="resume"]').hidden = st !== "paused";
    root.querySelectorAll(".c-controls .c-btn").forEach(function (b) { b.disabled = st === "ended"; });
  });
})();

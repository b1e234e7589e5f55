// Phone: your partner, your spot, the countdown, and sit out / support / leave one tap away.
(function () {
  "use strict";
  var root = document.getElementById("phone");
  var live = new window.Live({ auth: { run_id: Number(root.dataset.runId) } });
  var $ = function (id) { return document.getElementById(id); };
  var mine = null, wakeLock = null;

  function notice(text) {
    var el = $("notice");
    el.textContent = text || "";
    el.hidden = !text;
  }

  live.on("connection", function (ok) { window.Live.text($("conn"), ok ? "" : "Reconnecting…"); });
  live.on("refused", function (err) {
    var reasons = {
      not_logged_in: "Please log in again to join.",
      no_such_run: "This exercise no longer exists.",
      banned: "You cannot join this exercise. Please speak to an organiser."
    };
    notice(reasons[err.code] || err.message || "Cannot connect to the exercise.");
  });
  live.on("removed", function (data) {
    live.socket.disconnect();
    var reason = data && data.reason;
    notice(reason === "banned" ? "You cannot take part in this exercise. Please speak to an organiser."
      : reason === "session_ended" ? "You were logged out. Log in again to rejoin."
      : "You are not paired while your consent is withdrawn. You can sign again at any time.");
  });
  live.on("your_pairing", function (data) { mine = data; render(); });
  live.on("state", function () { render(); keepAwake(); });

  function show(id, visible) { $(id).hidden = !visible; }

  function render() {
    if (!mine) { return; }
    var joined = mine.state !== "not_joined";
    var ended = live.state && live.state.status === "ended";
    show("join-btn", !joined && !ended);
    show("sitout-btn", joined && mine.state !== "sitting_out" && !ended);
    show("comeback-btn", joined && mine.state === "sitting_out" && !ended);
    show("support-btn", joined && !ended);
    show("leave-btn", joined && !ended);
    var label = $("partner-label"), partner = $("partner"), spot = $("spot");
    var card = $("partner-card");
    card.dataset.state = mine.state;
    if (mine.state === "paired") {
      window.Live.text(label, mine.partners.length > 1 ? "Your partners" : "Your partner");
      window.Live.text(partner, mine.partners.map(function (p) { return p.name; }).join(" & "));
      window.Live.text(spot, "Spot " + mine.spot + " — you are " + mine.role);
    } else {
      var texts = {
        not_joined: ["Welcome", "", "Tap “Join this exercise” when you are ready."],
        waiting: ["You are in", "", "Your partner appears here when the round starts."],
        resting: ["This round you rest", "", "Sit quietly; you are paired next round."],
        sitting_out: ["You are sitting out", "", "Come back in whenever you like."]
      }[mine.state] || ["", "", ""];
      window.Live.text(label, texts[0]); window.Live.text(partner, texts[1]); window.Live.text(spot, texts[2]);
    }
    if (ended) { window.Live.text(label, "Thank you"); window.Live.text(partner, ""); window.Live.text(spot, "This exercise has ended."); }
  }

  live.tick(function (cur, changed) {
    var s = live.state;
    if (!s) { return; }
    window.Live.text($("round"), s.status === "ended" ? "Finished" : "Round " + (s.round_index + 1) + " of " + s.rounds);
    if (!cur || !cur.phase) {
      window.Live.text($("countdown"), "–:––");
      window.Live.text($("phase-name"), s.status === "not_started" ? "Starting soon" : "");
      window.Live.text($("active"), ""); window.Live.text($("instruction"), ""); window.Live.text($("next"), "");
      return;
    }
    window.Live.text($("phase-name"), cur.phase.name + (cur.paused ? " — paused" : ""));
    window.Live.text($("countdown"), window.Live.format(cur.remainingMs));
    window.Live.text($("active"), window.Live.activeText(cur.phase.active));
    window.Live.text($("instruction"), cur.phase.instruction);
    window.Live.text($("next"), cur.next ? "Next: " + cur.next.name : "");
    document.body.classList.toggle("last-ten", !cur.paused && cur.remainingMs <= 10000);
    if (changed && navigator.vibrate) { navigator.vibrate(80); }
  });

  function act(event, button, confirmation) {
    button.disabled = true;
    live.call(event).then(function (answer) {
      button.disabled = false;
      if (answer && answer.ok) { notice(confirmation || ""); } else { notice((answer && answer.message) || "That did not work. Try again."); }
    });
  }
  $("join-btn").addEventListener("click", function () { act("join_run", this, ""); });
  $("sitout-btn").addEventListener("click", function () { act("sit_out", this, "You will sit out from the next round. Nobody is told why."); });
  $("comeback-btn").addEventListener("click", function () { act("come_back", this, "Welcome back — you are paired from the next round."); });
  $("support-btn").addEventListener("click", function () { act("signal_support", this, "Received. A facilitator is coming to you quietly."); });
  $("leave-btn").addEventListener("click", function () { act("leave_run", this, "You have left. Rejoin any time."); });

  // Keep the screen awake while the run is live, where the browser allows it.
  function keepAwake() {
    var running = live.state && live.state.status === "running";
    if (running && !wakeLock && navigator.wakeLock) {
      navigator.wakeLock.request("screen").then(function (lock) {
        wakeLock = lock;
        lock.addEventListener("release", function () { wakeLock = null; });
      }).catch(function () { /* not allowed here */ });
    } else if (!running && wakeLock) { wakeLock.release(); }
  }
  document.addEventListener("visibilitychange", function () { if (document.visibilityState === "visible") { keepAwake(); } });
})();

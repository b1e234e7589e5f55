// Shared by the projector, phone and console: connection, server clock, snapshots, countdown.
(function () {
  "use strict";

  function Live(options) {
    this.auth = options.auth;
    this.handlers = {};
    this.offsetMs = 0;          // server time minus local time
    this.bestRttMs = Infinity;
    this.state = null;          // latest run_state (highest version)
    this.connected = false;
    var self = this;
    this.socket = window.io("/live", {
      auth: this.auth,
      transports: ["websocket", "polling"],
      // Back within a few seconds of the network or the server returning (docs/faults.md):
      // retries every 0.5 s growing to at most 3 s, and a connection attempt made into a dead
      // network is given up after 5 s instead of the default 20 s.
      reconnectionDelay: 500,
      reconnectionDelayMax: 3000,
      timeout: 5000
    });
    this.refusedRetries = 0;   // database_unavailable refusals in a row (for the backoff)
    Live.instance = this;      // one per page; tests and the browser console reach it here
    this.socket.on("connect", function () {
      self.connected = true;
      self.refusedRetries = 0;
      self.bestRttMs = Infinity;
      self.syncClock(6);
      self.fire("connection", true);
    });
    this.socket.on("disconnect", function () {
      self.connected = false;
      if (!self.stopped) { self.fire("connection", false); }   // stopped: no "Reconnecting…"
    });
    this.socket.on("connect_error", function (err) {
      // A refusal by the server carries {code, message} as its data; an unreachable server
      // has none (socket.io retries that by itself).
      var data = (err && err.data && err.data.code) ? err.data : { code: "offline", message: "" };
      // socket.io-client does not retry a refusal by the server; one for a passing cause (the
      // database restarting) is retried here, backing off to Live.RETRY_REFUSED_MAX_MS with
      // jitter so a room of phones does not knock all at once.
      if (data.code === "database_unavailable") {
        var delay = Math.min(Live.RETRY_REFUSED_MAX_MS, Live.RETRY_REFUSED_MS * Math.pow(2, self.refusedRetries));
        delay = Math.round(delay * (0.75 + Math.random() * 0.5));
        self.refusedRetries += 1;
        data = { code: data.code, message: data.message, retryInMs: delay };
        setTimeout(function () { if (!self.socket.connected) { self.socket.connect(); } }, delay);
      }
      self.fire("refused", data);
    });
    // The account opened this run on a newer screen (the server keeps the newest few).
    this.socket.on("replaced", function (data) {
      self.stop();
      self.fire("refused", { code: "replaced", message: (data && data.message) || "" });
    });
    this.socket.on("run_state", function (state) {
      if (self.state && state.run_id === self.state.run_id && state.version < self.state.version) { return; }
      var changed = !self.state || state.version !== self.state.version;
      self.state = state;
      if (changed) { self.fire("state", state); }
    });
    ["your_pairing", "pairing_table", "facilitator_view", "support_signal", "removed", "entry_refused"].forEach(function (name) {
      self.socket.on(name, function (data) { self.fire(name, data); });
    });
    setInterval(function () { if (self.connected) { self.syncClock(2); } }, 60000);
    // Heal lost broadcasts (the Redis queue drops what is published while it is away): ask
    // every RESYNC_MS whether our version is current, and soon after a deadline passes with
    // no new state. The server answers a current version with one cheap read.
    this.resyncAskedFor = null;
    setInterval(function () { self.resync(); }, Live.RESYNC_MS + Math.floor(Math.random() * 2000));
    setInterval(function () {
      var s = self.state;
      if (!self.connected || !s || s.status !== "running" || !s.deadline) { return; }
      var late = self.serverNow() - Date.parse(s.deadline);
      if (late > Live.LATE_TICK_MS && self.resyncAskedFor !== s.version) {
        self.resyncAskedFor = s.version;
        self.resync();
      }
    }, 500);
  }

  Live.RESYNC_MS = 10000;
  Live.LATE_TICK_MS = 2000;
  Live.RETRY_REFUSED_MS = 1000;
  Live.RETRY_REFUSED_MAX_MS = 30000;

  // What each screen says when the server refuses the connection (docs/live-protocol.md),
  // by the refusal's code; the server's own message is shown for a code not listed here.
  Live.REFUSALS = {
    bad_request: "This page could not connect to the exercise. Reload the page to try again.",
    no_such_run: "This exercise no longer exists.",
    bad_projector_token: "This projector link is not valid. Open the projector again from the console.",
    not_logged_in: "Please log in again to join.",
    not_a_facilitator: "Only this gathering's facilitators can open its console.",
    not_registered: "This exercise is for the gathering's participants. Please speak to a facilitator.",
    banned: "You cannot join this exercise. Please speak to an organiser.",
    session_ended: "You were logged out. Log in again to rejoin.",
    database_unavailable: "The server cannot reach its database just now. Trying again by itself…",
    replaced: "This exercise is open on another screen of yours, so this one was closed. Reload to use it here.",
    offline: "Cannot reach the server. Trying again…"
  };

  // Return the human message for a refusal ({code, message}).
  Live.refusalText = function (err) {
    return (err && Live.REFUSALS[err.code]) || (err && err.message) || "Cannot connect to the exercise.";
  };

  // Ask for fresh snapshots unless ours are current; a check with no answer means the
  // connection is silently dead (a phone that changed network): drop it and reconnect.
  Live.prototype.resync = function () {
    var self = this;
    if (!this.connected) { return; }
    // The console's private view (present, support) changes without a new version: always resend.
    var payload = this.state && this.auth.as !== "facilitator" ? { known_version: this.state.version } : {};
    this.call("request_snapshot", payload).then(function (answer) {
      if (answer && answer.error === "timeout" && self.connected && self.socket.io.engine) {
        self.socket.io.engine.close();
      }
    });
  };

  // Close the connection for good (removed, replaced): no reconnecting, no "Reconnecting…".
  Live.prototype.stop = function () { this.stopped = true; this.socket.disconnect(); };

  // Whether the page keeps trying after this refusal (by itself or through socket.io).
  Live.retries = function (err) { return !!err && (err.code === "database_unavailable" || err.code === "offline"); };

  Live.prototype.on = function (name, fn) { (this.handlers[name] = this.handlers[name] || []).push(fn); return this; };
  Live.prototype.fire = function (name, data) { (this.handlers[name] || []).forEach(function (fn) { fn(data); }); };

  // Emit and resolve with the server's acknowledgement (or a timeout error).
  Live.prototype.call = function (event, payload) {
    var socket = this.socket;
    return new Promise(function (resolve) {
      socket.timeout(8000).emit(event, payload || {}, function (err, answer) {
        resolve(err ? { ok: false, error: "timeout", message: "No answer from the server. Check the connection." } : answer);
      });
    });
  };

  // Several samples; keep the one with the lowest round trip (least queueing noise).
  Live.prototype.syncClock = function (samples) {
    var self = this;
    var t0 = Date.now();
    this.call("sync_clock", { t0: t0 }).then(function (answer) {
      var t1 = Date.now();
      if (answer && answer.ok) {
        var rtt = t1 - t0;
        if (rtt <= self.bestRttMs) {
          self.bestRttMs = rtt;
          self.offsetMs = answer.server_time - (t0 + rtt / 2);
        }
      }
      if (samples > 1) { setTimeout(function () { self.syncClock(samples - 1); }, 150); }
    });
  };

  Live.prototype.serverNow = function () { return Date.now() + this.offsetMs; };

  // The phase playing now by the plan's absolute times, switching locally at each deadline.
  Live.prototype.current = function () {
    var s = this.state;
    if (!s) { return null; }
    if (s.status === "paused") {
      return { phase: s.phase, remainingMs: s.remaining_s * 1000, paused: true, index: s.phase_index, next: s.plan[1] || null };
    }
    if (s.status !== "running") { return { phase: null, remainingMs: 0, status: s.status, next: s.plan[0] || null }; }
    var now = this.serverNow();
    for (var i = 0; i < s.plan.length; i++) {
      var end = Date.parse(s.plan[i].ends_at);
      if (end > now) {
        return { phase: s.plan[i], remainingMs: end - now, endMs: end, index: s.plan[i].phase_index, next: s.plan[i + 1] || null };
      }
    }
    return { phase: null, remainingMs: 0, status: "waiting", next: null };
  };

  Live.format = function (ms) {
    var total = Math.max(0, Math.ceil(ms / 1000));
    var m = Math.floor(total / 60), sec = total % 60;
    return m + ":" + (sec < 10 ? "0" : "") + sec;
  };

  Live.activeText = function (active) {
    return { everyone: "Everyone", a: "A speaks · B listens", b: "B speaks · A listens" }[active] || "";
  };

  // A soft two-tone chime made in the browser: no sound file, no internet.
  Live.chime = function (soft) {
    try {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      Live.audio = Live.audio || new Ctx();
      var ctx = Live.audio, now = ctx.currentTime;
      [523.25, 659.25].forEach(function (freq, i) {
        var osc = ctx.createOscillator(), gain = ctx.createGain();
        osc.type = "sine"; osc.frequency.value = freq;
        gain.gain.setValueAtTime(0.0001, now + i * 0.18);
        gain.gain.exponentialRampToValueAtTime(soft ? 0.08 : 0.18, now + i * 0.18 + 0.03);
        gain.gain.exponentialRampToValueAtTime(0.0001, now + i * 0.18 + 1.6);
        osc.connect(gain); gain.connect(ctx.destination);
        osc.start(now + i * 0.18); osc.stop(now + i * 0.18 + 1.7);
      });
    } catch (e) { /* sound is a nicety */ }
  };

  Live.text = function (el, value) { if (el && el.textContent !== value) { el.textContent = value; } };

  // Repaint about ten times a second; call fn with the current phase.
  Live.prototype.tick = function (fn) {
    var self = this;
    var lastKey = null;
    setInterval(function () {
      var cur = self.current();
      var key = cur && cur.phase ? (self.state.round_index + ":" + cur.index) : (self.state ? self.state.status : "none");
      var changed = lastKey !== null && key !== lastKey;
      lastKey = key;
      fn(cur, changed);
      if (cur && cur.endMs) { window.liveDebug = { endMs: cur.endMs - self.offsetMs, offsetMs: self.offsetMs, key: key }; }
    }, 100);
  };

  window.Live = Live;
})();

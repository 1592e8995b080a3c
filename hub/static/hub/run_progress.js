/* Run now's progress page (templates/admin/hub/run_progress.html): ask the status URL every
   data-interval-ms and show what it says, until the run ends (done) or data-limit-seconds pass;
   then stop asking and say so. Every text comes from the server (hub.admin.run_progress); this
   only puts it in place. No inline script, no library: it works under a strict CSP. */
(function () {
  "use strict";

  var box = document.getElementById("run-progress");
  if (!box || box.dataset.done === "true") {
    return;
  }
  var every = parseInt(box.dataset.intervalMs, 10) || 1500;
  var limitMs = (parseInt(box.dataset.limitSeconds, 10) || 600) * 1000;
  var startedAt = Date.now();
  var failures = 0;
  var MAX_FAILURES = 5;

  function part(id) {
    return document.getElementById(id);
  }

  function say(id, text) {
    var element = part(id);
    element.textContent = text || "";
    element.hidden = !text;
  }

  function show(data) {
    var state = part("run-progress-state");
    state.textContent = data.text;
    state.className = "hub-verdict" + (data.level ? " hub-" + data.level : "");
    box.dataset.state = data.state;
    say("run-progress-hint", data.state === "queued" ? data.hint : "");
    say("run-progress-error", data.run && data.run.error);
    if (data.run) {
      var link = part("run-progress-run-link");
      link.href = data.run.url;
      link.textContent = "Run #" + data.run.id;
      part("run-progress-run").hidden = false;
    }
  }

  function stop(note) {
    box.dataset.done = "true";
    if (note) {
      say("run-progress-note", note);
    }
  }

  function again() {
    if (Date.now() - startedAt >= limitMs) {
      var seconds = Math.round(limitMs / 1000);
      var waited = seconds < 120 ? seconds + " seconds" : Math.round(seconds / 60) + " minutes";
      stop("Stopped checking after " + waited + "; the run may still be going: reload this page to check again.");
      return;
    }
    window.setTimeout(ask, every);
  }

  function ask() {
    window.fetch(box.dataset.statusUrl, {
      credentials: "same-origin",
      cache: "no-store",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      if (response.redirected) {
        throw new Error("the admin sent this page to its login (signed out?)");
      }
      if (!response.ok) {
        throw new Error("the hub answered " + response.status);
      }
      return response.json();
    }).then(function (data) {
      failures = 0;
      show(data);
      if (data.done) {
        stop("");
      } else {
        again();
      }
    }).catch(function (error) {
      failures += 1;
      if (failures >= MAX_FAILURES) {
        stop("Stopped checking: " + error.message + " " + MAX_FAILURES + " times in a row. Reload this page to try again.");
      } else {
        again();
      }
    });
  }

  window.setTimeout(ask, every);
})();

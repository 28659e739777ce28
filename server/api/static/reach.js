// How I am reached (GET/PUT /api/v1/me/reach): text, e-mail and phone calls in the order
// tried, quiet hours, and time away. One way of each kind; push and webhooks are kept as
// they are (the server keeps them, tried first).
"use strict";

(() => {
  const { $, api } = carewatch;
  const KINDS = ["sms", "email", "voice"];
  const KIND_WORDS = { sms: "text messages", email: "e-mail", voice: "phone calls", webpush: "this app's notifications", webhook: "a webhook" };
  let saved = null; // the last answer from the server

  // Half-hour steps, 24-hour clock: "22:30" reads the same in every country.
  function fillTimes(select) {
    if (select.options.length) return;
    for (let minutes = 0; minutes < 24 * 60; minutes += 30) {
      const value = `${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;
      select.append(new Option(value, value));
    }
  }

  function say(text) { $("reach-message").textContent = text; }

  function show(reach) {
    saved = reach;
    const zone = reach.timezone;
    carewatch.fillAwayDays($("carer-away-day"), zone);
    fillTimes($("quiet-start"));
    fillTimes($("quiet-end"));
    for (const kind of KINDS) {
      const offered = reach.offered.includes(kind);
      for (const node of document.querySelectorAll(`#reach-form [data-kind="${kind}"]`)) node.hidden = !offered;
      const mine = reach.channels.find((c) => c.kind === kind);
      $(`reach-${kind}`).value = mine ? mine.address : "";
    }
    const others = reach.channels.filter((c) => !c.editable);
    $("reach-others").hidden = !others.length;
    $("reach-others").textContent = others.length
      ? `Also, first: ${others.map((c) => `${KIND_WORDS[c.kind] || c.kind} (${c.address})`).join(", ")}.` : "";
    const quiet = reach.quiet_hours;
    $("quiet-on").checked = Boolean(quiet);
    $("quiet-start").value = quiet ? quiet.start.slice(0, 5) : "22:00";
    $("quiet-end").value = quiet ? quiet.end.slice(0, 5) : "07:00";
    const ways = reach.channels.map((c) => KIND_WORDS[c.kind] || c.kind);
    $("reach-state").textContent = (ways.length
      ? `Alerts reach you by ${ways.join(", then ")}.`
      : "No way to reach you is set: alerts only show on this page. Add a number or an e-mail below.")
      + (quiet ? ` Quiet hours ${quiet.start.slice(0, 5)} to ${quiet.end.slice(0, 5)} (${zone} time).` : "");
    const until = reach.away ? new Date(reach.away_until) : null;
    $("carer-away-state").textContent = until
      ? `You are away until ${carewatch.longDay(until, zone)}, by the end of the ${carewatch.partOfDay(until, zone)}: urgent alerts go to the next carer.`
      : "You are not away: urgent alerts come to you in your turn.";
    $("carer-back").hidden = !until;
    // Time away takes a carer off the ladder; responders go off duty instead.
    $("reach-away").hidden = carewatch.session.me?.role !== "carer";
  }

  // The server keeps push and webhooks by itself: only the kinds on the form are sent.
  const body = (changes) => ({
    channels: saved.channels.filter((c) => KINDS.includes(c.kind)).map(({ kind, address }) => ({ kind, address })),
    quiet_hours: saved.quiet_hours,
    away_until: saved.away ? saved.away_until : null,
    ...changes,
  });

  async function put(changes, errorBox, button, done) {
    errorBox.textContent = "";
    say("");
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    try {
      show(await api("/api/v1/me/reach", { method: "PUT", body: body(changes) }));
      say(done);
    } catch (error) {
      errorBox.textContent = carewatch.plainWords(error.message);
    } finally {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    }
  }

  function channelsTyped() {
    // In the order already saved (the order they are tried), then new ones in the form's order.
    const order = [...saved.channels.map((c) => c.kind), ...KINDS].filter((k, i, all) => KINDS.includes(k) && all.indexOf(k) === i);
    return order.map((kind) => ({ kind, address: $(`reach-${kind}`).value.trim() }))
      .filter((c) => c.address && saved.offered.includes(c.kind));
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("reach-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const error = $("reach-error");
      const quiet = $("quiet-on").checked ? { start: $("quiet-start").value, end: $("quiet-end").value } : null;
      if (quiet && quiet.start === quiet.end) {
        error.textContent = "Quiet hours must end at another time than they start: choose a different \"Quiet until\".";
        $("quiet-end").focus();
        return;
      }
      put({ channels: channelsTyped(), quiet_hours: quiet }, error, event.submitter, "Saved: this is how alerts reach you now.");
    });
    $("carer-away-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const error = $("carer-away-error");
      const hour = Number(document.querySelector("input[name='carer-away-part']:checked").value);
      const until = carewatch.atZoneTime($("carer-away-day").value, hour, saved.timezone);
      if (until <= new Date()) {
        error.textContent = "That time has already passed today: choose a later day or part of the day.";
        $("carer-away-day").focus();
        return;
      }
      put({ away_until: until.toISOString() }, error, event.submitter, "Saved: you are away. Urgent alerts go to the next carer.");
    });
    $("carer-back").addEventListener("click", (event) =>
      put({ away_until: null }, $("carer-away-error"), event.currentTarget, "Welcome back: alerts come to you again."));
  });

  // Called by the page once signed in.
  carewatch.loadReach = async () => show(await api("/api/v1/me/reach"));
})();

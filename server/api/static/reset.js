// An admin's one-time link: the token is in the URL's fragment, never sent but with the form.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const $ = (id) => document.getElementById(id);
  const token = location.hash.slice(1);
  if (token.length < 20) { $("no-link").hidden = false; $("reset-form").hidden = true; return; }
  $("reset-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = $("reset-error");
    error.textContent = "";
    if ($("new-password").value !== $("new-password-again").value) {
      error.textContent = "The two passwords are not the same: type them again.";
      $("new-password-again").focus();
      return;
    }
    const response = await fetch("/api/v1/auth/reset", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ token, new_password: $("new-password").value }),
    });
    if (response.ok) {
      history.replaceState(null, "", "/reset");  // the spent token leaves the address bar
      $("reset-form").hidden = true;
      $("done").hidden = false;
      return;
    }
    const detail = (await response.json().catch(() => ({}))).detail;
    error.textContent = typeof detail === "string" ? detail
      : Array.isArray(detail) ? detail.map((d) => String(d.msg).replace(/^Value error, /, "")).join(" ")
      : "That did not work: try again.";
  });
});

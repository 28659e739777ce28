// Your own account: change your password (your other sign-ins end; this one stays).
"use strict";

document.addEventListener("DOMContentLoaded", async () => {
  const { $, api } = carewatch;
  const me = await carewatch.start();
  if (!me) return;
  $("home-link").href = me.home_page;
  $("account-username").value = me.username;
  // Alerts reach carers, responders and administrators; a resident is not on a ladder.
  // (A carer sets this on her own page too.)
  $("reach").hidden = me.role === "resident";
  if (me.role !== "resident") await carewatch.loadReach();
  $("password-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = $("password-error");
    error.textContent = "";
    $("message").textContent = "";
    if ($("new-password").value !== $("new-password-again").value) {
      error.textContent = "The two new passwords are not the same: type them again.";
      $("new-password-again").focus();
      return;
    }
    try {
      await api("/api/v1/me/password", { method: "PUT", body: {
        current_password: $("current-password").value, new_password: $("new-password").value,
      } });
      event.target.reset();
      $("message").textContent = "Your password is changed. You are signed out everywhere else.";
    } catch (failure) {
      error.textContent = failure.message;
    }
  });
});

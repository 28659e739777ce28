// Sign in with a session cookie, then go to the page asked for or the role's own page.
"use strict";

function nextPage(me) {
  const wanted = new URLSearchParams(location.search).get("next");
  if (!wanted) return me.home_page;
  // Only a page on this site: never send someone elsewhere after signing in
  // (browsers read "/\\evil.example" as another site, so compare origins). The
  // whole URL, not its path: "/.//evil.example" resolves to the path
  // "//evil.example", which on its own would name another site again.
  const target = new URL(wanted, location.origin);
  return target.origin === location.origin ? target.href : me.home_page;
}

async function signIn(event) {
  event.preventDefault();
  const error = document.getElementById("sign-in-error");
  error.textContent = "";
  const response = await fetch("/api/v1/auth/session", {
    method: "POST", credentials: "same-origin", body: new URLSearchParams(new FormData(event.target)),
  });
  if (response.status === 429) {
    error.textContent = `Too many wrong passwords. ${(await response.json()).detail}.`;
    return;
  }
  if (!response.ok) { error.textContent = "Wrong username or password."; return; }
  location.assign(nextPage(await response.json()));
}

document.addEventListener("DOMContentLoaded", async () => {
  document.getElementById("sign-in-form").addEventListener("submit", signIn);
  const current = await fetch("/api/v1/auth/session", { credentials: "same-origin" });
  if (current.ok) location.assign(nextPage(await current.json()));
  else document.getElementById("username-input").focus();
});

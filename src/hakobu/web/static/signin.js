"use strict";
// `hakobu ui` opens /signin#<key>: the key stays out of logs and history, and is sent once.
async function signIn(token) {
  const response = await fetch("/api/v1/session", {
    method: "POST",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify({token}),
  });
  if (response.ok) {
    history.replaceState(null, "", "/signin");
    location.assign(location.pathname === "/signin" ? "/" : location.href);
    return;
  }
  const problem = await response.json().catch(() => ({message: response.statusText}));
  document.getElementById("signin-error").textContent = problem.message;
}
document.getElementById("signin").addEventListener("submit", (event) => {
  event.preventDefault();
  signIn(document.getElementById("token").value.trim());
});
if (location.hash.length > 1) {
  const key = decodeURIComponent(location.hash.slice(1));
  history.replaceState(null, "", location.pathname);
  signIn(key);
}

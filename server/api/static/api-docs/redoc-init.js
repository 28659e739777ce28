// Starts ReDoc on /redoc from a file, as the site's content security policy
// allows no inline script.
"use strict";
window.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("redoc");
  Redoc.init(root.dataset.openapiUrl, {}, root);
});

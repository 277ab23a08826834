// Starts Swagger UI on /api/docs with the document named by the page (no inline script: the CSP allows none).
(function () {
  "use strict";
  var box = document.getElementById("swagger-ui-container");
  if (!box || typeof window.SwaggerUIBundle !== "function") { return; }
  window.ui = window.SwaggerUIBundle({ url: box.getAttribute("data-spec-url"), dom_id: "#swagger-ui-container" });
}());

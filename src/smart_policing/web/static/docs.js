// Swagger UI from the vendored bundle; requests use this browser's session cookie.
window.addEventListener("load", function () {
  "use strict";
  var csrf = document.body.dataset.csrf || "";
  window.SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    requestInterceptor: function (req) {
      if (csrf) { req.headers["X-CSRF-Token"] = csrf; }
      return req;
    },
  });
});

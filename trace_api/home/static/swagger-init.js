// Starts Swagger UI on /docs. A file of our own rather than an inline script: the page's policy runs scripts
// from this origin only. validatorUrl null: Swagger UI would otherwise send the schema to an outside validator.
"use strict";
const root = document.getElementById("swagger-ui");
window.ui = SwaggerUIBundle({
  url: root.dataset.openapiUrl,
  domNode: root,
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});

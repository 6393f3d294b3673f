// Starts Swagger UI (swagger-ui-dist, served beside this file) on the Worker's own /openapi.json.
// Loaded after swagger-ui-bundle.js, which defines the SwaggerUIBundle global.

interface SwaggerUIOptions {
  url: string;
  dom_id: string;
  /** null: never send the document to an outside validator (the default does, for its badge). */
  validatorUrl: null;
  deepLinking: boolean;
  /** "list": every tag's operations shown, so the page reads as a reference. */
  docExpansion: "list" | "full" | "none";
  tryItOutEnabled: boolean;
  persistAuthorization: boolean;
}

declare const SwaggerUIBundle: (options: SwaggerUIOptions) => unknown;

SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#docs",
  validatorUrl: null,
  deepLinking: true,
  docExpansion: "list",
  tryItOutEnabled: false,
  // A key typed into "Authorize" is kept for the tab only, as in the console.
  persistAuthorization: false,
});

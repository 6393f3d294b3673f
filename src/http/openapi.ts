// The OpenAPI document served at /openapi.json. Each route describes itself in its createRoute()
// (schemas, its own statuses, summary and description); what every route shares is added here, once,
// to the generated document, so that a route registered anywhere gets it without repeating it:
//
// - info (license), servers, the security schemes, the global tag list;
// - an operationId for every operation that does not name its own (see operationIdFor);
// - the statuses the middleware and the error handler answer for any route (401, 404 while
//   /admin/v1 is off, 400/413/415 for a request body, 500 and 503), each with the error body whose
//   error.code lists exactly the codes of that status (src/http/errors.ts STATUS);
// - the response headers: X-Request-Id on every response, WWW-Authenticate on 401, Retry-After on
//   503 and 409;
// - /admin/v1 under the admin token's security scheme;
// - request bodies whose defaults do not read as "always present" to client generators.
//
// The Node project's test/node/openapi.lint.test.ts lints the result with Redocly's and Spectral's
// rule sets and type-checks the README's request bodies against a client generated from it.
import type { OpenAPIHono } from "@hono/zod-openapi";
import { ERROR_CODE_DESCRIPTIONS, errorCodesFor, errorDescription } from "./errors";
import type { AppBindings } from "./types";

type Json = Record<string, unknown>;
type Document = ReturnType<OpenAPIHono["getOpenAPI31Document"]>;

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;
const BODY_METHODS = new Set(["post", "put", "patch"]);

/** Where the API lives: src/app.ts authenticates every request under it before the route runs. */
const API_PREFIX = "/api/v1/";
/** Where the admin API lives (src/app.ts guards it with adminAuth). */
const ADMIN_PREFIX = "/admin/v1/";

/**
 * The global tag list, in the order a reader meets the API. A tag a route uses that is missing here
 * is still listed (after these), without a description, which the lint test reports: add it here.
 */
const TAGS: { name: string; description: string }[] = [
  {
    name: "Customers",
    description:
      "Load borrowers or leads into a campaign (up to 10,000 per request, each record judged on its own) and read them back.",
  },
  {
    name: "Campaigns",
    description:
      "A campaign's type (emi, edi, lead) decides which record fields are required; it carries the time zone, the country for phone numbers, the calling window and the workflow.",
  },
  {
    name: "Imports",
    description:
      "Each bulk request is an import: its counts, and the live progress of the calls and workflow runs it set in motion.",
  },
  {
    name: "Calls",
    description: "The calls bulkcall placed, and the dialer's reports of their outcomes.",
  },
  {
    name: "Organization",
    description:
      "Your organization's dialing policy: the contact limits every campaign obeys (a campaign may only tighten them) and the dates nobody is called.",
  },
  {
    name: "Suppressions",
    description: "The organization's do-not-call list: a suppressed number is never dialled.",
  },
  { name: "Agents", description: "The voice agents that make the calls." },
  { name: "Dispositions", description: "The disposition sets call outcomes are recorded against." },
  {
    name: "Webhooks",
    description:
      "Outcome events of calls, imports and workflow runs, POSTed to the organization's URLs and signed per the Standard Webhooks specification.",
  },
  {
    name: "Admin",
    description:
      "Organizations and their API keys, for the operator of the deployment (the ADMIN_TOKEN secret; off while it is unset).",
  },
];

const SECURITY_SCHEMES = {
  apiKey: {
    type: "http",
    scheme: "bearer",
    description:
      "An organization's API key, as `Authorization: Bearer <key>`. Everything the key sees or changes is its organization's; another organization's resources answer 404, like missing ones.",
  },
  adminToken: {
    type: "http",
    scheme: "bearer",
    description:
      "The deployment's ADMIN_TOKEN secret, as `Authorization: Bearer <token>`. While the secret is unset, /admin/v1 answers 404.",
  },
};

const HEADERS = {
  "X-Request-Id": {
    description:
      "The request's id, also in the service's logs: the X-Request-Id the request carried when it was 1 to 128 of A-Z a-z 0-9 . _ : - (src/http/middleware/request-id.ts), else a new one.",
    required: true,
    schema: { type: "string", minLength: 1, maxLength: 128, example: "5f0c2b9e-7d4a-4c1e-9b3f-2a6d8e1c0f47" },
  },
  "Retry-After": {
    description: "Seconds to wait before retrying.",
    schema: { type: "integer", minimum: 0, example: 30 },
  },
  "WWW-Authenticate": {
    description: "The authentication scheme to use.",
    required: true,
    schema: { type: "string", example: 'Bearer realm="bulkcall"' },
  },
};

/** Response headers by status (X-Request-Id is on every response). */
const STATUS_HEADERS: Record<string, Json> = {
  "401": { "WWW-Authenticate": { $ref: "#/components/headers/WWW-Authenticate" } },
  "409": {
    "Retry-After": {
      $ref: "#/components/headers/Retry-After",
      description: "With idempotency_request_in_flight: when the running attempt's lease ends.",
    },
  },
  "503": { "Retry-After": { $ref: "#/components/headers/Retry-After" } },
};

/** The document's top-level fields; paths, components and webhooks come from the routes. */
const DOCUMENT_CONFIG = {
  openapi: "3.1.0",
  info: {
    title: "bulkcall",
    version: "1.0.0",
    description:
      "Load customer lists into AI voice-agent campaigns and fan out the calls. Every response carries X-Request-Id; errors share one body, `{success: false, message, error: {code, details}}`, whose `error.code` each status lists.",
    license: { name: "MIT", identifier: "MIT" },
  },
  // Relative: the API is served by the deployment that serves this document.
  servers: [{ url: "/", description: "The deployment serving this document" }],
  security: [{ apiKey: [] }],
};

/** Serves the finished document at `path`, built once per app on first request. */
export function serveOpenApiDocument(app: OpenAPIHono<AppBindings>, path: string): void {
  let document: Document | undefined;
  app.get(path, (c) => {
    document ??= finishDocument(app.getOpenAPI31Document(DOCUMENT_CONFIG));
    return c.json(document);
  });
}

/**
 * Adds to a generated document what every operation shares (see the top of this file). Throws when
 * two operations end up with the same operationId: give one of them its own in its createRoute().
 */
function finishDocument(document: Document): Document {
  const doc = document as unknown as Json;
  const components = child(doc, "components");
  Object.assign(child(components, "securitySchemes"), SECURITY_SCHEMES);
  Object.assign(child(components, "headers"), HEADERS);

  const used = new Set<string>();
  const ids = new Map<string, string>();
  for (const [path, item] of entries(doc.paths)) {
    for (const method of METHODS) {
      const op = asObject(item[method]);
      if (!op) continue;
      const where = `${method.toUpperCase()} ${path}`;
      op.operationId ??= operationIdFor(method, path);
      claim(ids, String(op.operationId), where);
      for (const tag of asArray(op.tags)) used.add(String(tag));
      const admin = path.startsWith(ADMIN_PREFIX);
      if (admin) op.security ??= [{ adminToken: [] }];
      const responses = child(op, "responses");
      const add = (status: number) => {
        responses[status] ??= {
          description: errorDescription(status),
          content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
        };
      };
      // The API is authenticated (API key, admin token, or the dialer's signature) against the
      // database, and reads its JSON bodies in src/http/middleware/json-body.ts.
      if (admin || path.startsWith(API_PREFIX)) {
        add(401);
        if (admin) add(404);
        if (BODY_METHODS.has(method)) for (const s of [400, 413, 415]) add(s);
        add(503);
      }
      add(500);
      for (const [status, response] of entries(responses)) {
        const headers = child(response, "headers");
        headers["X-Request-Id"] ??= { $ref: "#/components/headers/X-Request-Id" };
        Object.assign(headers, structuredClone(STATUS_HEADERS[status] ?? {}));
        narrowErrorBodies(doc, response, Number(status));
      }
      const body = asObject(asObject(op.requestBody)?.content);
      for (const media of Object.values(body ?? {}))
        describeDefaults(doc, asObject(media)?.schema, new Set());
    }
  }
  for (const [name, item] of entries(doc.webhooks)) {
    const op = asObject(item.post);
    if (!op) continue;
    op.operationId ??= `on${pascal(name.split(/[^A-Za-z0-9]+/))}`;
    claim(ids, String(op.operationId), `webhook ${name}`);
    for (const tag of asArray(op.tags)) used.add(String(tag));
  }

  const schemas = child(components, "schemas");
  if (!JSON.stringify(doc).includes('"#/components/schemas/Error"')) delete schemas.Error;
  doc.tags = [
    ...TAGS.filter((t) => used.has(t.name)),
    ...[...used].filter((name) => !TAGS.some((t) => t.name === name)).map((name) => ({ name })),
  ];
  return document;
}

/**
 * The operationId of an operation that does not name its own, from its method and path: a verb,
 * then the path's words without /api/v1 (/admin/v1 gives an `admin` prefix), a collection named
 * before a path parameter in the singular. GET lists a collection (a plural last word) or gets one
 * item; POST creates in a collection, or, on `/{id}/<action>` (a last word that is not a plural),
 * performs the action (`rotate-secret` on webhooks/{webhookId} is rotateWebhookSecret); PUT
 * replaces, PATCH updates, DELETE deletes.
 * Examples: GET /api/v1/campaigns/{campaignId}/customers is listCampaignCustomers, POST
 * /api/v1/campaigns/{campaignId}/pause is pauseCampaign. An operation is renamed only when its
 * method or path changes; where this reads badly, the route names its own in createRoute().
 */
export function operationIdFor(method: string, path: string): string {
  const prefix = /^\/(api|admin)\/v\d+(?=\/|$)/.exec(path);
  const segments = path
    .slice(prefix?.[0].length ?? 0)
    .split("/")
    .filter((s) => s !== "");
  const isParam = (s: string | undefined) => s?.startsWith("{") ?? false;
  const last = segments.length - 1;
  const lastWord = words(segments[last] ?? "").at(-1) ?? "";
  const action =
    method === "post" &&
    last > 0 &&
    isParam(segments[last - 1]) &&
    !isParam(segments[last]) &&
    !isPlural(lastWord)
      ? words(segments[last] ?? "")
      : undefined;
  const verb =
    action?.[0] ??
    {
      get: isParam(segments[last]) || !isPlural(lastWord) ? "get" : "list",
      post: "create",
      put: "replace",
      patch: "update",
      delete: "delete",
    }[method] ??
    method;
  const nouns: string[] = [];
  segments.forEach((segment, i) => {
    if (isParam(segment) || (action && i === last)) return;
    const parts = words(segment);
    const singular = isParam(segments[i + 1]) || (i === last && method === "post");
    if (singular && parts.length > 0) parts.push(singularOf(parts.pop() as string));
    nouns.push(...parts);
  });
  const head = prefix?.[1] === "admin" ? ["admin", verb] : [verb];
  const id = pascal([...head, ...nouns, ...(action?.slice(1) ?? [])]);
  return id.charAt(0).toLowerCase() + id.slice(1);
}

const words = (segment: string) => segment.split(/[^A-Za-z0-9]+/).filter((w) => w !== "");
const pascal = (parts: string[]) => parts.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join("");
const isPlural = (word: string) => /[^su]s$/i.test(word) || /ies$/i.test(word);
const singularOf = (word: string) =>
  /ies$/i.test(word) ? `${word.slice(0, -3)}y` : isPlural(word) ? word.slice(0, -1) : word;

function claim(ids: Map<string, string>, id: string, where: string): void {
  const other = ids.get(id);
  if (other)
    throw new Error(`operationId "${id}" is used by ${other} and ${where}; name one in createRoute().`);
  ids.set(id, where);
}

/**
 * Points a response's error bodies (the shared `Error` schema, alone or in a union) at `Error<status>`,
 * whose error.code lists only that status's codes, creating it from `Error` on first use.
 */
function narrowErrorBodies(doc: Json, response: Json, status: number): void {
  const codes = errorCodesFor(status);
  if (codes.length === 0) return;
  const name = `Error${status}`;
  let found = false;
  const replace = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(replace);
    const o = asObject(node);
    if (!o) return;
    if (o.$ref === "#/components/schemas/Error") {
      o.$ref = `#/components/schemas/${name}`;
      found = true;
    } else {
      Object.values(o).forEach(replace);
    }
  };
  replace(response.content);
  const schemas = child(child(doc, "components"), "schemas");
  if (!found || schemas[name]) return;
  const narrowed = structuredClone(schemas.Error) as Json;
  const code = asObject(asObject(asObject(asObject(narrowed.properties)?.error)?.properties)?.code);
  if (!code) throw new Error("components.schemas.Error has no error.code");
  code.enum = codes;
  code.example = codes[0];
  code.description = codes.map((c) => `- \`${c}\`: ${ERROR_CODE_DESCRIPTIONS[c]}`).join("\n");
  narrowed.description = `The error body of a ${status} answer.`;
  schemas[name] = narrowed;
}

/** The keywords whose values are subschemas, maps of them, or lists of them (JSON Schema 2020-12). */
const SUBSCHEMA = ["items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames"];
const SUBSCHEMA_MAPS = ["properties", "patternProperties", "$defs", "dependentSchemas"];
const SUBSCHEMA_LISTS = ["allOf", "anyOf", "oneOf", "prefixItems"];

/**
 * Moves each `default` of a request body's schema (and of the component schemas it references) into
 * its description. zod-to-openapi already leaves defaulted fields out of `required`, but client
 * generators read a default in a component as "always present" (openapi-typescript's
 * defaultNonNullable, on by default, makes the field required), which is true of an answer and false
 * of a request: a client generated from the document would then refuse bodies the service accepts.
 */
function describeDefaults(doc: Json, schema: unknown, seen: Set<string>): void {
  const o = asObject(schema);
  if (!o) return;
  if (typeof o.$ref === "string" && o.$ref.startsWith("#/components/schemas/")) {
    const name = o.$ref.slice("#/components/schemas/".length);
    if (!seen.has(name)) {
      seen.add(name);
      describeDefaults(doc, child(child(doc, "components"), "schemas")[name], seen);
    }
  }
  if ("default" in o) {
    const note = `Default: \`${JSON.stringify(o.default)}\`.`;
    o.description = typeof o.description === "string" ? `${o.description} ${note}` : note;
    delete o.default;
  }
  for (const key of SUBSCHEMA) describeDefaults(doc, o[key], seen);
  for (const key of SUBSCHEMA_MAPS)
    for (const s of Object.values(asObject(o[key]) ?? {})) describeDefaults(doc, s, seen);
  for (const key of SUBSCHEMA_LISTS) for (const s of asArray(o[key])) describeDefaults(doc, s, seen);
}

function asObject(value: unknown): Json | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function entries(value: unknown): [string, Json][] {
  return Object.entries(asObject(value) ?? {}).flatMap(([k, v]) => {
    const o = asObject(v);
    return o ? [[k, o] as [string, Json]] : [];
  });
}

/** `parent[key]` as an object, created empty when absent. */
function child(parent: Json, key: string): Json {
  const existing = asObject(parent[key]);
  if (existing) return existing;
  const created: Json = {};
  parent[key] = created;
  return created;
}

import { createRoute, z } from "@hono/zod-openapi";
import type { Deps } from "../../deps";
import { createCampaign } from "../../domain/campaigns/create-campaign";
import { deleteCampaign } from "../../domain/campaigns/delete-campaign";
import { updateCampaign } from "../../domain/campaigns/update-campaign";
import { eraseCustomer } from "../../domain/customers/erase-customer";
import { DomainError } from "../../domain/errors";
import {
  CAMPAIGN_DIALING_STATES,
  CAMPAIGN_TYPES,
  type Campaign,
  WEEKDAYS,
} from "../../domain/model/campaign";
import { PAYMENT_STATUSES, type StoredCustomer } from "../../domain/model/customer";
import { type ContactLimits, DEFAULT_CONTACT_LIMITS, effectiveLimits } from "../../domain/model/policy";
import { WorkflowDefinition } from "../../domain/model/workflow";
import { FIELDS } from "../../domain/records/record-rules";
import { errorResponses } from "../errors";
import {
  BlackoutDates,
  CampaignContactPolicySchema,
  ContactPolicySchema,
  RetryPolicySchema,
} from "../policy-schemas";
import { createRouter } from "../router";
import {
  CampaignParam,
  Country,
  decodeCursor,
  iso,
  PageQuery,
  page,
  ResourceId,
  strictObject,
} from "../schemas";

const TIME = /^([01]\d|2[0-3]):[0-5]\d$/;

/** An agent or disposition id, as POST /api/v1/agents and /dispositions take them. */
const DefaultResource = z.string().min(1).max(128);

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const windowHours = {
  start: z.string().regex(TIME, "HH:MM, 24-hour").default("08:00"),
  end: z.string().regex(TIME, "HH:MM, 24-hour").default("19:00"),
  days: z
    .array(z.enum(WEEKDAYS))
    .min(1)
    .refine((d) => new Set(d).size === d.length, "each day at most once")
    .default([...WEEKDAYS]),
};
const startBeforeEnd = (w: { start: string; end: string }) => w.start < w.end;
const START_BEFORE_END = { message: "start must be before end", path: ["end"] };

const CallingWindow = z
  .object({ ...windowHours, blackoutDates: BlackoutDates.default([]) })
  .refine(startBeforeEnd, START_BEFORE_END)
  .openapi("CallingWindow", {
    description:
      "Local hours in which the campaign may call; 08:00-19:00 every day by default (RBI rule for recovery calls), except on the blackout dates (the campaign's and the organization's).",
  });

/**
 * A change of the calling window: only what it names changes. A window sent with only its blackout
 * dates must not reset the hours and days to the defaults (that would start calling on Sundays).
 */
const CallingWindowChange = strictObject({
  start: windowHours.start.removeDefault().optional(),
  end: windowHours.end.removeDefault().optional(),
  days: windowHours.days.removeDefault().optional(),
  blackoutDates: BlackoutDates.optional().openapi({
    description: "Local dates on which no call is made, replacing the campaign's.",
  }),
}).openapi("CallingWindowChange", {
  description:
    "Changes the campaign's calling window: the fields given replace the campaign's, the ones left out stay as they are. start must stay before end.",
});

// Strict: a misspelled setting (`calling_window`, `contactpolicy`) would otherwise leave the
// campaign on the defaults without a word, calling at hours the lender did not choose.
const CreateCampaign = strictObject({
  id: ResourceId.optional().openapi({ example: "collections-nov" }),
  name: z.string().trim().min(1).max(200),
  campaignType: z.enum(CAMPAIGN_TYPES),
  timezone: z
    .string()
    .refine(isTimeZone, "an IANA time zone such as Asia/Kolkata")
    .default("Asia/Kolkata")
    .openapi({ description: "An IANA time zone: the calling window and workflow waits are read in it." }),
  defaultCountry: Country.default("IN"),
  callingWindow: CallingWindow.optional(),
  workflow: WorkflowDefinition.optional().openapi({
    description:
      "The steps each customer added with useWorkflow goes through; when absent, the default for the campaign type (see the README).",
  }),
  agentId: DefaultResource.optional().openapi({
    description:
      "The agent of calls whose request names none (callConfig then becomes optional); set together with dispositionId.",
  }),
  dispositionId: DefaultResource.optional().openapi({
    description: "The disposition set of calls whose request names none; set together with agentId.",
  }),
  retry: RetryPolicySchema.optional(),
  contactPolicy: CampaignContactPolicySchema.optional(),
}).openapi("CreateCampaign");

const FIXED_FIELDS: Record<string, string> = {
  campaignType: "cannot be changed: the campaign's type decides which fields its customers carry",
  id: "cannot be changed: create a new campaign",
};

const UpdateCampaign = strictObject(
  {
    name: z.string().trim().min(1).max(200).optional(),
    timezone: z.string().refine(isTimeZone, "an IANA time zone such as Asia/Kolkata").optional(),
    defaultCountry: Country.optional().openapi({
      description: "For records added from now on; stored numbers are already in E.164.",
    }),
    callingWindow: CallingWindowChange.optional(),
    workflow: WorkflowDefinition.nullable().optional().openapi({
      description:
        "null goes back to the default of the campaign type. Runs already started keep their steps.",
    }),
    agentId: DefaultResource.nullable().optional().openapi({ description: "null clears the default." }),
    dispositionId: DefaultResource.nullable().optional().openapi({ description: "null clears the default." }),
    retry: RetryPolicySchema.optional().openapi({
      description: "Replaces the retry policy (fields left out take their defaults).",
    }),
    contactPolicy: CampaignContactPolicySchema.nullable().optional().openapi({
      description:
        "Replaces the campaign's own limits, each at most as loose as the organization's; null follows the organization's.",
    }),
    campaignType: z.unknown().optional().openapi({ description: "Cannot be changed (400)." }),
    id: z.unknown().optional().openapi({ description: "Cannot be changed (400)." }),
  },
  Object.keys(FIXED_FIELDS),
)
  .superRefine((body, ctx) => {
    for (const [field, message] of Object.entries(FIXED_FIELDS)) {
      if (Object.hasOwn(body, field)) ctx.addIssue({ code: "custom", path: [field], message });
    }
  })
  .openapi("UpdateCampaign");

/** Counts of a campaign's calls that a pause holds and a cancel ends. */
const WaitingCalls = z.object({
  queued: z.number().int(),
  delayed: z.number().int(),
  dispatching: z.number().int(),
});

const CampaignDialing = z
  .object({
    state: z.enum(CAMPAIGN_DIALING_STATES),
    pausedAt: z.string().nullable(),
    calls: WaitingCalls.optional().openapi({
      description: "Calls waiting or being handed to the dialer now (on GET of one campaign).",
    }),
  })
  .openapi("CampaignDialing");

export const CampaignSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    campaignType: z.enum(CAMPAIGN_TYPES),
    timezone: z.string(),
    defaultCountry: z.string(),
    callingWindow: z.object({
      start: z.string(),
      end: z.string(),
      days: z.array(z.string()),
      blackoutDates: z.array(z.string()),
    }),
    workflow: z.unknown(),
    agentId: z.string().nullable(),
    dispositionId: z.string().nullable(),
    retry: RetryPolicySchema,
    contactPolicy: CampaignContactPolicySchema.nullable().openapi({
      description: "The campaign's own limits, or null when it follows the organization's.",
    }),
    effectiveContactPolicy: ContactPolicySchema.optional().openapi({
      description:
        "The limits its calls obey: the organization's, tightened by the campaign's (on GET and PATCH of one campaign).",
    }),
    dialing: CampaignDialing,
    createdAt: z.string(),
  })
  .openapi("Campaign");

const CustomerSchema = z
  .object({
    id: z.number().int(),
    loan_id: z.string().nullable(),
    lead_id: z.string().nullable(),
    first_name: z.string(),
    last_name: z.string().nullable(),
    phone_number: z.string().openapi({ example: "+919876543210" }),
    loan_amount: z.number().nullable(),
    emi_amount: z.number().nullable(),
    loan_period: z.number().int().nullable(),
    current_emi: z.number().int().nullable(),
    emi_due_date: z.string().nullable().openapi({ format: "date", example: "2026-12-05" }),
    // The stored values (the record rules normalize what was sent); the enum is the document's, the
    // repository types them as strings.
    payment_status: z
      .string()
      .nullable()
      .openapi({ enum: [...PAYMENT_STATUSES, null] }),
    language: z
      .string()
      .nullable()
      .openapi({ enum: [...storedLanguages(), null], description: "Stored as the name." }),
    lead_date: z.string().nullable().openapi({ format: "date" }),
    variables: z.record(z.string(), z.unknown()),
    importId: z.string().openapi({ description: "The import that added the customer." }),
    createdAt: z.string().openapi({ format: "date-time" }),
    updatedAt: z
      .string()
      .nullable()
      .openapi({ format: "date-time", description: "When an update last changed the customer." }),
  })
  .openapi("Customer", {
    description: "A stored customer: its record's fields as the record rules normalized them.",
  });

/** The names a stored record's language can be (the record rules store the name, never a code). */
function storedLanguages(): readonly string[] {
  return FIELDS.find((f) => f.name === "language")?.values ?? [];
}

/** The campaign as answered; `details` (GET of one campaign) adds what needs more reading. */
function campaignJson(
  c: Campaign,
  details?: { effectiveContactPolicy: ContactLimits; waiting: { status: string; n: number }[] },
) {
  const count = (status: string) => details?.waiting.find((w) => w.status === status)?.n ?? 0;
  return {
    id: c.id,
    name: c.name,
    campaignType: c.campaignType,
    timezone: c.timezone,
    defaultCountry: c.defaultCountry,
    callingWindow: c.callingWindow,
    workflow: c.workflow,
    agentId: c.agentId,
    dispositionId: c.dispositionId,
    retry: c.retry,
    contactPolicy: c.contactPolicy,
    ...(details ? { effectiveContactPolicy: details.effectiveContactPolicy } : {}),
    dialing: {
      state: c.dialingState,
      pausedAt: c.pausedAt === null ? null : iso(c.pausedAt),
      ...(details
        ? { calls: { queued: count("queued"), delayed: count("delayed"), dispatching: count("dispatching") } }
        : {}),
    },
    createdAt: iso(c.createdAt),
  };
}

/** A campaign with its effective limits and the counts of its waiting calls. */
export async function campaignDetailsJson(deps: Deps, organizationId: string, campaign: Campaign) {
  const [organization, waiting] = await Promise.all([
    deps.tenancy.findOrganization(organizationId),
    deps.calls.countWaitingByCampaign(campaign.pk),
  ]);
  return campaignJson(campaign, {
    effectiveContactPolicy: effectiveLimits(
      organization?.contactPolicy ?? DEFAULT_CONTACT_LIMITS,
      campaign.contactPolicy,
    ),
    waiting,
  });
}

function customerJson(r: StoredCustomer) {
  return {
    id: r.id,
    loan_id: r.loanId,
    lead_id: r.leadId,
    first_name: r.firstName,
    last_name: r.lastName,
    phone_number: r.phoneNumber,
    loan_amount: r.loanAmount,
    emi_amount: r.emiAmount,
    loan_period: r.loanPeriod,
    current_emi: r.currentEmi,
    emi_due_date: r.emiDueDate,
    payment_status: r.paymentStatus,
    language: r.language,
    lead_date: r.leadDate,
    variables: r.variables,
    importId: r.importId,
    createdAt: iso(r.createdAt),
    updatedAt: r.updatedAt === null ? null : iso(r.updatedAt),
  };
}

export const campaignsRoutes = createRouter();

campaignsRoutes.openapi(
  createRoute({
    method: "post",
    path: "/",
    tags: ["Campaigns"],
    summary: "Create a campaign",
    description:
      "Creates a campaign in your organization; its `id` is generated when not given, and an id already taken answers 409. `timezone`, `defaultCountry` and the calling window have defaults; `workflow` replaces the default workflow of the campaign type. A workflow step naming an agent, disposition or webhook your organization does not have answers 400.",
    request: { body: { required: true, content: { "application/json": { schema: CreateCampaign } } } },
    responses: {
      201: { description: "Created", content: { "application/json": { schema: CampaignSchema } } },
      ...errorResponses(400, 401, 409),
    },
  }),
  async (c) => {
    const input = c.req.valid("json");
    const created = await createCampaign(c.var.deps, {
      organizationId: c.var.organizationId,
      id: input.id ?? crypto.randomUUID(),
      name: input.name,
      campaignType: input.campaignType,
      timezone: input.timezone,
      defaultCountry: input.defaultCountry,
      callingWindow: input.callingWindow,
      workflow: input.workflow,
      agentId: input.agentId,
      dispositionId: input.dispositionId,
      retry: input.retry,
      contactPolicy: input.contactPolicy,
    });
    return c.json(campaignJson(created), 201);
  },
);

campaignsRoutes.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags: ["Campaigns"],
    summary: "List campaigns",
    description:
      "Your organization's campaigns, ordered by id; cursor-based pagination (send `nextCursor` as `cursor`).",
    request: { query: PageQuery },
    responses: {
      200: {
        description: "A page, ordered by id",
        content: {
          "application/json": {
            schema: z.object({ data: z.array(CampaignSchema), nextCursor: z.string().nullable() }),
          },
        },
      },
      ...errorResponses(400, 401),
    },
  }),
  async (c) => {
    const { limit, cursor } = c.req.valid("query");
    const rows = await c.var.deps.campaigns.listCampaigns(
      c.var.organizationId,
      limit,
      decodeCursor(cursor, "string"),
    );
    return c.json(
      page(
        rows.map((r) => campaignJson(r)),
        limit,
        (r) => r.id,
      ),
      200,
    );
  },
);

campaignsRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{campaignId}",
    tags: ["Campaigns"],
    summary: "Get a campaign",
    description:
      "One of your organization's campaigns; another organization's answers 404, like a missing one.",
    request: { params: CampaignParam },
    responses: {
      200: { description: "The campaign", content: { "application/json": { schema: CampaignSchema } } },
      ...errorResponses(401, 404),
    },
  }),
  async (c) => {
    const campaign = await c.var.deps.campaigns.findCampaign(
      c.var.organizationId,
      c.req.valid("param").campaignId,
    );
    if (!campaign) throw new DomainError("campaign_not_found", "Campaign not found.");
    return c.json(await campaignDetailsJson(c.var.deps, c.var.organizationId, campaign), 200);
  },
);

campaignsRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{campaignId}/customers",
    tags: ["Customers"],
    summary: "List a campaign's customers",
    description: "Stable order (oldest first), cursor-based pagination.",
    request: { params: CampaignParam, query: PageQuery },
    responses: {
      200: {
        description: "A page of customers",
        content: {
          "application/json": {
            schema: z.object({ data: z.array(CustomerSchema), nextCursor: z.string().nullable() }),
          },
        },
      },
      ...errorResponses(400, 401, 404),
    },
  }),
  async (c) => {
    const { deps } = c.var;
    const { limit, cursor } = c.req.valid("query");
    const campaign = await deps.campaigns.findCampaign(c.var.organizationId, c.req.valid("param").campaignId);
    if (!campaign) throw new DomainError("campaign_not_found", "Campaign not found.");
    const rows = await deps.customers.list(campaign.pk, limit, decodeCursor<number>(cursor, "number"));
    return c.json(
      page(rows.map(customerJson), limit, (r) => r.id),
      200,
    );
  },
);

campaignsRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/{campaignId}",
    operationId: "updateCampaign",
    tags: ["Campaigns"],
    summary: "Change a campaign",
    description:
      "Name, time zone, default country, calling window and blackout dates, workflow, default agent and disposition, retry policy and own contact limits; the type cannot change. The calling window, blackout dates, retry policy and limits apply at once (they are read when a call is judged); a workflow change applies to runs started after it. Limits looser than the organization's answer 400.",
    request: {
      params: CampaignParam,
      body: { required: true, content: { "application/json": { schema: UpdateCampaign } } },
    },
    responses: {
      200: {
        description: "The campaign as stored",
        content: { "application/json": { schema: CampaignSchema } },
      },
      ...errorResponses(400, 401, 404, 415),
    },
  }),
  async (c) => {
    const { campaignType: _type, id: _id, ...change } = c.req.valid("json");
    const updated = await updateCampaign(
      c.var.deps,
      c.var.organizationId,
      c.req.valid("param").campaignId,
      change,
    );
    return c.json(await campaignDetailsJson(c.var.deps, c.var.organizationId, updated), 200);
  },
);

campaignsRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/{campaignId}",
    operationId: "deleteCampaign",
    tags: ["Campaigns"],
    summary: "Delete a campaign",
    description:
      "The campaign leaves the API at once (its id may be reused) and its customers' personal data is erased (large campaigns finish on the cron). Its imports stay readable (counts only), and its calls and runs stay de-identified. 409 while calls or workflow runs are waiting or under way, unless force=true, which cancels them first (a call already handed to the dialer finishes there).",
    request: {
      params: CampaignParam,
      query: z.object({
        force: z
          .enum(["true", "false"])
          .default("false")
          .openapi({ description: "Cancel waiting calls and running workflow runs first." }),
      }),
    },
    responses: {
      204: { description: "Deleted" },
      ...errorResponses(400, 401, 404, 409),
    },
  }),
  async (c) => {
    await deleteCampaign(c.var.deps, {
      organizationId: c.var.organizationId,
      campaignId: c.req.valid("param").campaignId,
      force: c.req.valid("query").force === "true",
    });
    return c.body(null, 204);
  },
);

campaignsRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/{campaignId}/customers/{key}",
    operationId: "eraseCustomer",
    tags: ["Customers"],
    summary: "Erase a customer",
    description:
      "The borrower's right to erasure (DPDP Act 2023): the customer's personal data leaves every table (customer, calls, the dialer's events, webhook payloads, stored Idempotency-Key answers), its waiting calls are cancelled and its workflow runs end at their next step. De-identified counts stay, so an import's progress still adds up. With suppress=true the number is put on the suppression list first (and kept there).",
    request: {
      params: CampaignParam.extend({
        key: z
          .string()
          .min(1)
          .max(512)
          .openapi({ description: "The customer's loan_id (lead_id in a lead campaign)." }),
      }),
      query: z.object({
        suppress: z
          .enum(["true", "false"])
          .default("false")
          .openapi({ description: "Put the number on the suppression list first." }),
      }),
    },
    responses: {
      204: { description: "Erased" },
      ...errorResponses(400, 401, 404),
    },
  }),
  async (c) => {
    const { campaignId, key } = c.req.valid("param");
    await eraseCustomer(c.var.deps, {
      organizationId: c.var.organizationId,
      campaignId,
      key,
      suppress: c.req.valid("query").suppress === "true",
    });
    return c.body(null, 204);
  },
);

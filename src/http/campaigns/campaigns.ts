import { createRoute, z } from "@hono/zod-openapi";
import type { Deps } from "../../deps";
import { createCampaign } from "../../domain/campaigns/create-campaign";
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
import { CampaignParam, Country, decodeCursor, iso, PageQuery, page, ResourceId } from "../schemas";

const TIME = /^([01]\d|2[0-3]):[0-5]\d$/;

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const CallingWindow = z
  .object({
    start: z.string().regex(TIME, "HH:MM, 24-hour").default("08:00"),
    end: z.string().regex(TIME, "HH:MM, 24-hour").default("19:00"),
    days: z
      .array(z.enum(WEEKDAYS))
      .min(1)
      .refine((d) => new Set(d).size === d.length, "each day at most once")
      .default([...WEEKDAYS]),
    blackoutDates: BlackoutDates.default([]),
  })
  .refine((w) => w.start < w.end, { message: "start must be before end", path: ["end"] })
  .openapi("CallingWindow", {
    description:
      "Local hours in which the campaign may call; 08:00-19:00 every day by default (RBI rule for recovery calls), except on the blackout dates (the campaign's and the organization's).",
  });

export const CreateCampaign = z
  .object({
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
    retry: RetryPolicySchema.optional(),
    contactPolicy: CampaignContactPolicySchema.optional(),
  })
  .openapi("CreateCampaign");

/** Counts of a campaign's calls that a pause holds and a cancel ends. */
const WaitingCalls = z.object({
  queued: z.number().int(),
  delayed: z.number().int(),
  dispatching: z.number().int(),
});

export const CampaignDialing = z
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
    retry: RetryPolicySchema,
    contactPolicy: CampaignContactPolicySchema.nullable().openapi({
      description: "The campaign's own limits, or null when it follows the organization's.",
    }),
    effectiveContactPolicy: ContactPolicySchema.optional().openapi({
      description:
        "The limits its calls obey: the organization's, tightened by the campaign's (on GET of one campaign).",
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
    importId: z.string(),
    createdAt: z.string().openapi({ format: "date-time" }),
  })
  .openapi("Customer", {
    description: "A stored customer: its record's fields as the record rules normalized them.",
  });

/** The names a stored record's language can be (the record rules store the name, never a code). */
function storedLanguages(): readonly string[] {
  return FIELDS.find((f) => f.name === "language")?.values ?? [];
}

/** The campaign as answered; `details` (GET of one campaign) adds what needs more reading. */
export function campaignJson(
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

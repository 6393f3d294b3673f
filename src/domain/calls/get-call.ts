// GET /api/v1/calls/{callId}: one call with its attempts and its decision log, the answer to "why was
// this borrower called at 18:58, and why not at 19:02".
import { DomainError } from "../errors";
import type { CallAttempt, CallDecision } from "../model/call";
import type { CallListItem, CallsRepository } from "../ports/calls-repository";
import type { CampaignsRepository } from "../ports/campaigns-repository";

/** Decision-log rows answered per call: a call retried five times over a week stays far below it. */
export const MAX_DECISIONS_LISTED = 500;

export interface CallDetail {
  call: CallListItem;
  campaignId: string;
  attempts: CallAttempt[];
  decisions: CallDecision[];
  /** True when the log holds more rows than were listed (the oldest are listed). */
  decisionsTruncated: boolean;
}

/** The organization's call; not_found (404) for an unknown one or another organization's. */
export async function getCall(
  deps: { calls: CallsRepository; campaigns: CampaignsRepository },
  organizationId: string,
  callId: string,
): Promise<CallDetail> {
  const call = await deps.calls.findOne(organizationId, callId);
  if (!call) throw new DomainError("not_found", `Call "${callId}" does not exist.`);
  const [campaign, attempts, decisions] = await Promise.all([
    deps.campaigns.findCampaignByPk(call.campaignPk),
    deps.calls.attemptsOf(call.pk),
    deps.calls.decisionsOf(call.pk, MAX_DECISIONS_LISTED + 1),
  ]);
  return {
    call,
    campaignId: campaign?.id ?? "",
    attempts,
    decisions: decisions.slice(0, MAX_DECISIONS_LISTED),
    decisionsTruncated: decisions.length > MAX_DECISIONS_LISTED,
  };
}

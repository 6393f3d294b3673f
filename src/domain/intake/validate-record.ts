import type { CampaignType, RecordVerdict } from "./record-rules";
import { recordSchemaFor, verdictFromSchema } from "./record-schema";

/** Judges one record for a campaign of `type` whose phone numbers default to `country`. */
export function validateRecord(input: unknown, type: CampaignType, country: string): RecordVerdict {
  return verdictFromSchema(recordSchemaFor(type, country), input);
}

// The published JSON Schema (2020-12, as OpenAPI 3.1 uses) of one customer record, generated from
// the record rules (record-rules.ts) so the document says what the service does. It may be looser
// than the service where JSON Schema cannot say a rule (which fields a campaign type requires, the
// phone number plans, current_emi <= loan_period), but never stricter: a Node test validates
// generated valid records against the served document.
import { FIELDS, type FieldSpec, isRequired, LIMITS } from "./record-rules";

type JsonSchema = Record<string, unknown>;

const BLANK: JsonSchema = {
  type: ["string", "null"],
  pattern: "^\\s*$",
  description: "Blank: the field is absent.",
};

const REGEX_SPECIAL = /[.*+?^${}()|[\]\\/-]/g;

/** A pattern matching `word` in any letter case (JSON Schema patterns take no flags). */
function anyCase(word: string): string {
  let out = "";
  for (const c of word) {
    const lower = c.toLowerCase();
    const upper = c.toUpperCase();
    out += lower !== upper ? `[${lower}${upper}]` : c.replace(REGEX_SPECIAL, "\\$&");
  }
  return out;
}

/**
 * A string whose trimmed length is 1..max code points (or 0..max when blank means absent). JSON
 * Schema's maxLength would count the padding the service trims, so the bound is a pattern.
 */
function trimmedText(max: number, allowBlank: boolean): string {
  const word = `\\S(?:[\\s\\S]{0,${max - 2}}\\S)?`;
  return allowBlank ? `^\\s*(?:${word})?\\s*$` : `^\\s*${word}\\s*$`;
}

function valueSchema(spec: FieldSpec, required: boolean): JsonSchema {
  switch (spec.kind) {
    case "text":
      return { type: "string", pattern: trimmedText(spec.max, !required) };
    case "phone":
      return { type: ["string", "integer"], minimum: 1 };
    case "amount":
      return { type: "number", minimum: 0 };
    case "count":
      return { type: "integer", minimum: 1, maximum: Number.MAX_SAFE_INTEGER };
    case "date":
      return { type: "string", format: "date" };
    case "choice": {
      const spellings = Object.keys(spec.accepted).map(anyCase).join("|");
      return { type: "string", pattern: `^\\s*(?:${spellings})\\s*$`, examples: [...spec.values] };
    }
  }
}

const requiredNote = (spec: FieldSpec) => {
  const types = spec.requiredFor;
  if (types.length === 0 || types.length === 3) return "";
  return ` Required for ${types.join("/")} campaigns.`;
};

/** The CustomerRecord schema of /openapi.json. */
export function customerRecordJsonSchema(): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const spec of FIELDS as readonly FieldSpec[]) {
    // Required whatever the campaign type: JSON Schema cannot see the campaign a record is for.
    const always = isRequired(spec, "emi") && isRequired(spec, "edi") && isRequired(spec, "lead");
    if (always) required.push(spec.name);
    const value = valueSchema(spec, always);
    // A blank value (null, or a string of whitespace) means "absent": accepted where the field is
    // optional. A text field's pattern already lets blanks through.
    const schema = always
      ? value
      : spec.kind === "text"
        ? { ...value, type: ["string", "null"] }
        : { anyOf: [value, BLANK] };
    properties[spec.name] = {
      ...schema,
      description: `${spec.description}${requiredNote(spec)}`,
      ...(spec.example === undefined ? {} : { example: spec.example }),
    };
  }
  return {
    type: "object",
    description: `One borrower or lead. Each record is judged on its own: a bad record is reported in results.errors and never fails the request. Keys beyond the documented ones (at most ${LIMITS.variablesMaxKeys}, scalar values) are kept as the agent's variables.`,
    properties,
    required,
    additionalProperties: {
      type: ["string", "number", "boolean", "null"],
      maxLength: LIMITS.variableValueMax,
    },
  };
}

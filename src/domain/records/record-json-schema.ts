// The published JSON Schema (2020-12, as OpenAPI 3.1 uses) of one customer record, generated from
// the record rules (record-rules.ts) so the document says what the service does. It may be looser
// than the service where JSON Schema cannot say a rule (which fields a campaign type requires, the
// phone number plans, current_emi <= loan_period), but never stricter: a Node test validates
// generated valid records against the served document.
import { FIELDS, type FieldSpec, LIMITS } from "./record-rules";

type JsonSchema = Record<string, unknown>;

const BLANK: JsonSchema = {
  type: ["string", "null"],
  pattern: "^\\s*$",
  description: "Blank: the field is absent.",
};

/**
 * A day that exists, YYYY-MM-DD, in the years LIMITS.firstYear..lastYear (1900..2100): 31- and
 * 30-day months, February to the 28th, and the 29th in leap years (divisible by 4, 1900 and 2100
 * not, 2000 yes).
 */
const CALENDAR_DATE = (() => {
  if (LIMITS.firstYear !== 1900 || LIMITS.lastYear !== 2100)
    throw new Error("date pattern: update the years");
  const year = "(?:19\\d\\d|20\\d\\d|2100)";
  const leapYear = "(?:19(?:0[48]|[2468][048]|[13579][26])|20(?:[02468][048]|[13579][26]))";
  return [
    `${year}-(?:0[13578]|1[02])-(?:0[1-9]|[12]\\d|3[01])`,
    `${year}-(?:0[469]|11)-(?:0[1-9]|[12]\\d|30)`,
    `${year}-02-(?:0[1-9]|1\\d|2[0-8])`,
    `${leapYear}-02-29`,
  ]
    .map((alternative) => `(?:${alternative})`)
    .join("|")
    .replace(/^/, "(?:")
    .concat(")");
})();

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
 * A string whose trimmed length is at most max code points (blank means absent). JSON Schema's
 * maxLength would count the padding the service trims, so the bound is a pattern.
 */
function trimmedText(max: number): string {
  return `^\\s*(?:\\S(?:[\\s\\S]{0,${max - 2}}\\S)?)?\\s*$`;
}

function valueSchema(spec: FieldSpec): JsonSchema {
  switch (spec.kind) {
    case "key":
      // No length bound here: NFC and the removal of invisible characters at the ends can shorten
      // what was sent, so only the service can count it (the description states the limit).
      return { type: "string", minLength: 1 };
    case "text":
      return { type: "string", pattern: trimmedText(spec.max) };
    case "phone":
      return { type: ["string", "integer"], minimum: 1 };
    case "amount":
      return {
        anyOf: [
          { type: "number", minimum: 0 },
          { type: "string", pattern: "^\\s*\\d+(?:\\.\\d+)?\\s*$" },
        ],
      };
    case "count":
      return {
        anyOf: [
          { type: "integer", minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
          { type: "string", pattern: "^\\s*\\d+\\s*$" },
        ],
      };
    case "date":
      return { type: "string", pattern: `^\\s*${CALENDAR_DATE}\\s*$` };
    case "choice": {
      const spellings = Object.keys(spec.accepted).map(anyCase);
      if (spec.tags) {
        const subtags = Object.keys(spec.tags).map(anyCase).join("|");
        spellings.push(`(?:${subtags})(?:[-_][A-Za-z0-9]{1,8})+`);
      }
      return { type: "string", pattern: `^\\s*(?:${spellings.join("|")})\\s*$`, examples: [...spec.values] };
    }
  }
}

const requiredNote = (spec: FieldSpec) => {
  const types = spec.requiredFor;
  if (types.length === 0) return "";
  if (types.length === 3) return " Required.";
  return ` Required for ${types.join("/")} campaigns.`;
};

/** The CustomerRecord schema of /openapi.json. */
export function customerRecordJsonSchema(): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const spec of FIELDS as readonly FieldSpec[]) {
    // A blank value (null, or a string of whitespace) means "absent". Even a field every record
    // needs may be blank under its own name while another spelling of it (letter case, a BOM,
    // surrounding spaces) carries the value, so blanks are accepted everywhere; a text field's
    // pattern lets them through already.
    const value = valueSchema(spec);
    const schema = spec.kind === "text" ? { ...value, type: ["string", "null"] } : { anyOf: [value, BLANK] };
    properties[spec.name] = {
      ...schema,
      description: `${spec.description}${requiredNote(spec)}`,
      ...(spec.example === undefined ? {} : { example: spec.example }),
    };
  }
  return {
    type: "object",
    // No `required` list: which fields a record needs depends on its campaign's type, and a field may
    // be spelled another way (letter case, a BOM, surrounding spaces); each description says it.
    description: `One borrower or lead. Each record is judged on its own: a bad record is reported in results.errors and never fails the request. A key that differs from a documented field only by letter case, a BOM or surrounding spaces is read as that field. Other keys (at most ${LIMITS.variablesMaxKeys}, names up to ${LIMITS.variableNameMax} characters, scalar values) are kept as the agent's variables.`,
    properties,
    propertyNames: { maxLength: LIMITS.variableNameMax, not: { const: "__proto__" } },
    additionalProperties: {
      type: ["string", "number", "boolean", "null"],
      maxLength: LIMITS.variableValueMax,
    },
  };
}

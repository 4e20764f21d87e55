import { badAnswer } from "./failures";
import { hasControl, parseTimestamp } from "./text";
import type { Exchange } from "./transport";

// Octopus's answers, checked before use: every field this package reads has the type Octopus
// gives it, within a sensible size, and only those fields are kept. A server that answers
// otherwise is not Octopus (or not only Octopus): BAD_RESPONSE, never a crash, a request to
// `/api/users/undefined`, or a value nested 10,000 deep in the state.
//
// Text that is stored in state or shown in messages (ids, usernames, the key's hint) holds no
// control or bidirectional formatting character (./text): such an answer is BAD_RESPONSE, never a
// terminal escape in an output or a message. A key's `Purpose`, which is only compared, is kept as
// the server gives it; timestamps are ISO 8601 with a time zone.

/** An Octopus user, as far as this package reads it (not `DisplayName`: nothing shows it). */
export interface OctopusUser {
  Id: string;
  Username: string;
  IsService?: boolean;
  IsActive?: boolean;
}

/** An API key as Octopus returns it; `ApiKey` is the secret only in the answer to its creation. */
export interface OctopusApiKeyResource {
  Id: string;
  Purpose: string;
  UserId: string;
  ApiKey?: string | { HasValue?: boolean; Hint?: string };
  Created: string;
  /** `null`: the key never expires (a missing field means the same). */
  Expires: string | null;
  /** 2026.3+: `FullAccess`, `ReadOnly` or `Custom`. */
  AccessLevel?: string | null;
  /** 2026.3+: `User` or `AiAgent`, a label for audit logs. */
  ActorType?: string | null;
  /** 2026.3+: when the key last authenticated; `null` if never, or not known. */
  LastUsedTimeStamp?: string | null;
  /** 2026.3+: whether `LastUsedTimeStamp` is known. */
  IsLastUsedTimestampKnown?: boolean;
  /** Other fields the caller asked to keep (`asApiKey`'s `keep`), as text. */
  Reported?: Record<string, string>;
}

/** One page of a paged list. */
export interface Page {
  items: unknown[];
  /** `Links["Page.Next"]`, when there is a next page. */
  next?: string;
  /** `Links.Self`, when given. */
  self?: string;
  /** `TotalResults`, when given. */
  total?: number;
}

const MAX_ID = 256;
const MAX_NAME = 1_000;
const MAX_TIMESTAMP = 64;
const MAX_SECRET = 1_000;
const MAX_LINK = 4_000;
/** Purposes are the caller's own text; Octopus keeps them short, this is only a bound. */
const MAX_PURPOSE = 10_000;
/** What a field stored or shown must be, for messages. */
const PLAIN = "without control characters or bidirectional formatting characters";

type Fields = Record<string, unknown>;

/** What a value is, for a message, without repeating it. */
function kind(value: unknown): string {
  if (value === undefined) return "missing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "string") return `a string of ${value.length} characters`;
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

class Checker {
  constructor(
    private readonly exchange: Exchange,
    private readonly subject: string,
  ) {}

  fail(field: string, value: unknown, expected: string): never {
    throw badAnswer(this.exchange, `${this.subject}'s ${field} is ${kind(value)}, not ${expected}`);
  }

  object(value: unknown): Fields {
    if (!value || typeof value !== "object" || Array.isArray(value)) {
      throw badAnswer(this.exchange, `its answer is ${kind(value)}, not ${this.subject}`);
    }
    return value as Fields;
  }

  string(fields: Fields, field: string, max: number, nonEmpty = true): string {
    const value = fields[field];
    if (typeof value !== "string" || value.length > max || (nonEmpty && value.length === 0)) {
      this.fail(
        field,
        value,
        `a ${nonEmpty ? "non-empty " : ""}string of at most ${max} characters`,
      );
    }
    return value;
  }

  id(fields: Fields, field: string): string {
    const value = this.string(fields, field, MAX_ID);
    if (hasControl(value)) this.fail(field, value, `an id ${PLAIN}`);
    return value;
  }

  /** A non-empty string that is stored or shown: no control or bidirectional formatting character. */
  plain(fields: Fields, field: string, max: number, what: string): string {
    const value = this.string(fields, field, max);
    if (hasControl(value)) this.fail(field, value, `${what} ${PLAIN}`);
    return value;
  }

  /** A string that may be missing or null (`undefined` then). */
  optionalString(fields: Fields, field: string, max: number): string | undefined {
    return fields[field] === undefined || fields[field] === null
      ? undefined
      : this.string(fields, field, max, false);
  }

  timestamp(fields: Fields, field: string): string {
    const value = this.string(fields, field, MAX_TIMESTAMP);
    if (parseTimestamp(value) === undefined) {
      this.fail(field, value, "an ISO 8601 timestamp with a time zone");
    }
    return value;
  }

  /** A timestamp that may be missing or null (`null` then). */
  optionalTimestamp(fields: Fields, field: string): string | null {
    return fields[field] === undefined || fields[field] === null
      ? null
      : this.timestamp(fields, field);
  }

  optionalBoolean(fields: Fields, field: string): boolean | undefined {
    const value = fields[field];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "boolean") this.fail(field, value, "true or false");
    return value;
  }
}

/** `value` as an Octopus user, or BAD_RESPONSE. */
export function asUser(value: unknown, exchange: Exchange): OctopusUser {
  const check = new Checker(exchange, "a user");
  const fields = check.object(value);
  const user: OctopusUser = {
    Id: check.id(fields, "Id"),
    Username: check.plain(fields, "Username", MAX_NAME, "a username"),
  };
  const isService = check.optionalBoolean(fields, "IsService");
  if (isService !== undefined) user.IsService = isService;
  const isActive = check.optionalBoolean(fields, "IsActive");
  if (isActive !== undefined) user.IsActive = isActive;
  return user;
}

/**
 * `value` as an API key, or BAD_RESPONSE. `created`: the answer to a create, which must hold the
 * secret. `userId`: the owner asked for, kept when the answer does not name one.
 */
export function asApiKey(
  value: unknown,
  exchange: Exchange,
  { created, userId, keep = [] }: { created: boolean; userId: string; keep?: readonly string[] },
): OctopusApiKeyResource {
  const check = new Checker(exchange, created ? "the new key" : "a key");
  const fields = check.object(value);
  const key: OctopusApiKeyResource = {
    Id: check.id(fields, "Id"),
    Purpose: check.optionalString(fields, "Purpose", MAX_PURPOSE) ?? "",
    UserId:
      fields.UserId === undefined || fields.UserId === null ? userId : check.id(fields, "UserId"),
    Created: check.timestamp(fields, "Created"),
    Expires: check.optionalTimestamp(fields, "Expires"),
  };
  if (created) {
    const secret = check.string(fields, "ApiKey", MAX_SECRET);
    if (/\s/.test(secret) || hasControl(secret)) {
      check.fail("ApiKey", secret, "a key without spaces or control characters");
    }
    key.ApiKey = secret;
  } else if (fields.ApiKey !== undefined && fields.ApiKey !== null) {
    const shown = new Checker(exchange, "a key's ApiKey").object(fields.ApiKey);
    const apiKey: { HasValue?: boolean; Hint?: string } = {};
    if (shown.Hint !== undefined && shown.Hint !== null && shown.Hint !== "") {
      apiKey.Hint = check.plain(shown, "Hint", MAX_TIMESTAMP, "a hint");
    }
    const hasValue = check.optionalBoolean(shown, "HasValue");
    if (hasValue !== undefined) apiKey.HasValue = hasValue;
    key.ApiKey = apiKey;
  }
  if (fields.AccessLevel !== undefined) {
    key.AccessLevel = check.optionalString(fields, "AccessLevel", MAX_TIMESTAMP) ?? null;
  }
  // A label only: one in another shape is no reason to refuse the key (core/actor.ts reads it).
  if (typeof fields.ActorType === "string") key.ActorType = fields.ActorType.slice(0, MAX_ID);
  if (fields.LastUsedTimeStamp !== undefined) {
    key.LastUsedTimeStamp = check.optionalTimestamp(fields, "LastUsedTimeStamp");
  }
  const known = check.optionalBoolean(fields, "IsLastUsedTimestampKnown");
  if (known !== undefined) key.IsLastUsedTimestampKnown = known;
  for (const field of keep) {
    if (fields[field] === undefined || fields[field] === null) continue;
    (key.Reported ??= {})[field] = check.plain(fields, field, MAX_PURPOSE, `its ${field}`);
  }
  return key;
}

/** `value` as one page of a paged list, or BAD_RESPONSE. Items are checked by the caller. */
export function asPage(value: unknown, exchange: Exchange): Page {
  const check = new Checker(exchange, "a page of results");
  const fields = check.object(value);
  if (!Array.isArray(fields.Items)) check.fail("Items", fields.Items, "a list");
  const page: Page = { items: fields.Items as unknown[] };
  if (fields.Links !== undefined && fields.Links !== null) {
    const links = new Checker(exchange, "a page's Links").object(fields.Links);
    const next = check.optionalString(links, "Page.Next", MAX_LINK);
    if (next) page.next = next;
    const self = check.optionalString(links, "Self", MAX_LINK);
    if (self) page.self = self;
  }
  const total = fields.TotalResults;
  if (total !== undefined && total !== null) {
    if (typeof total !== "number" || !Number.isSafeInteger(total) || total < 0) {
      check.fail("TotalResults", total, "a whole number");
    }
    page.total = total as number;
  }
  return page;
}

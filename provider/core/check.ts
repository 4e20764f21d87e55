import { controlProblem } from "../octopus/text";
import { accessLevelProblems } from "./access";
import { choiceInputProblems } from "./choices";
import { connectionProblems, Problem } from "./connection/settings";
import { argumentSource, assemble, ConnectionSource, RawSettings } from "./connection/sources";
import { INPUT_NAMES, SETTING_NAMES } from "./fields";
import { plainInputNames } from "./plain-fields";
import { now, parseDuration, parseTimestamp } from "./time";

/** The value the engine sends for a value not known yet (during preview). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
export const isUnknown = (value: unknown): boolean => value === UNKNOWN;

/** The properties a resource may have: its inputs, and the dynamic provider host's own. */
const INPUT_FIELDS = new Set<string>([...INPUT_NAMES, "__provider"]);

const MAX_TEXT = 1_000;
/** Octopus ids are opaque, but always a plain path segment such as `Users-42`. */
const ID_SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** The smallest lifetime `expiresIn` accepts: anything shorter is surely a typo. */
const MIN_LIFETIME_MS = 60_000;

/**
 * Every problem with the inputs, each naming the property and the fix. Nothing here talks to
 * Octopus. `ambient` are the connection's other sources: the configuration, the environment.
 */
export function inputProblems(
  news: Record<string, unknown>,
  olds: Record<string, unknown>,
  ambient: readonly ConnectionSource[],
): Problem[] {
  const problems: Problem[] = [];
  const fail = (property: string, reason: string) => problems.push({ property, reason });

  for (const key of Object.keys(news)) {
    if (!INPUT_FIELDS.has(key)) {
      fail(
        key,
        `is not a property of OctopusApiKey; remove it (known properties: ${[...INPUT_FIELDS].filter((k) => k !== "__provider").join(", ")})`,
      );
    }
  }

  const text = (property: string, value: unknown, required: boolean): value is string => {
    if (value === undefined || value === null) {
      if (required)
        fail(property, 'is required; describe what the key is for, e.g. "CI deployments"');
      return false;
    }
    if (isUnknown(value)) return false;
    if (typeof value !== "string") {
      fail(property, `must be a string, not ${describeType(value)}`);
      return false;
    }
    if (value.trim() === "") {
      fail(
        property,
        required
          ? "must not be empty; describe what the key is for"
          : "must not be empty; omit it instead",
      );
      return false;
    }
    if (value.length > MAX_TEXT) {
      fail(property, `is ${value.length} characters long; the limit is ${MAX_TEXT}`);
      return false;
    }
    const control = controlProblem(value);
    if (control) {
      fail(property, control);
      return false;
    }
    return true;
  };

  text("purpose", news.purpose, true);
  // Values Octopus keeps as given (./plain-fields) are text like the purpose.
  for (const name of plainInputNames()) text(name, news[name], false);

  const hasUserId = news.userId !== undefined && news.userId !== null;
  const hasUsername = news.username !== undefined && news.username !== null;
  if (hasUserId && hasUsername) {
    fail("userId", "set either userId or username, not both (neither means the caller's own user)");
  }
  if (text("userId", news.userId, false) && !ID_SEGMENT.test(news.userId as string)) {
    fail("userId", "must be an Octopus user id such as Users-42 (letters, digits, '-', '_', '.')");
  }
  text("username", news.username, false);

  const hasExpiresAt = news.expiresAt !== undefined && news.expiresAt !== null;
  const hasExpiresIn = news.expiresIn !== undefined && news.expiresIn !== null;
  if (hasExpiresAt && hasExpiresIn) {
    fail(
      "expiresAt",
      "set either expiresAt or expiresIn, not both (neither means the server's default)",
    );
  }
  if (text("expiresAt", news.expiresAt, false)) {
    const at = parseTimestamp(news.expiresAt as string);
    if (at === undefined) {
      fail(
        "expiresAt",
        "must be an ISO 8601 timestamp with a time zone, e.g. 2027-01-31T00:00:00Z",
      );
    } else if (at <= now() && news.expiresAt !== olds.expiresAt) {
      fail("expiresAt", `${news.expiresAt} is in the past; choose a future time, or use expiresIn`);
    }
  }
  let lifetime: number | undefined;
  if (text("expiresIn", news.expiresIn, false)) {
    lifetime = parseDuration(news.expiresIn as string);
    if (lifetime === undefined) {
      fail("expiresIn", "must be a duration such as 90d, 12h or 30m (units w, d, h, m, s)");
    } else if (lifetime < MIN_LIFETIME_MS) {
      fail("expiresIn", "must be at least 1m");
    }
  }

  if (text("rotateBefore", news.rotateBefore, false)) {
    const window = parseDuration(news.rotateBefore as string);
    if (window === undefined) {
      fail("rotateBefore", "must be a duration such as 14d or 36h (units w, d, h, m, s)");
    } else if (hasExpiresAt) {
      fail(
        "rotateBefore",
        "cannot be used with expiresAt: a replacement key would get the same expiry; use expiresIn (or the server's default) for keys that rotate",
      );
    } else if (lifetime !== undefined && window >= lifetime) {
      fail(
        "rotateBefore",
        `must be shorter than expiresIn (${news.expiresIn}), or every run would rotate the key; e.g. expiresIn: "90d" with rotateBefore: "30d"`,
      );
    }
  }

  const triggers = news.rotationTriggers;
  if (triggers !== undefined && triggers !== null && !isUnknown(triggers)) {
    if (typeof triggers !== "object" || Array.isArray(triggers)) {
      fail("rotationTriggers", 'must be a map of strings, e.g. { schedule: "2026-Q4" }');
    } else {
      for (const [k, v] of Object.entries(triggers)) {
        if (typeof v !== "string" && !isUnknown(v)) {
          fail(`rotationTriggers.${k}`, `must be a string, not ${describeType(v)}`);
        }
      }
    }
  }

  problems.push(...accessLevelProblems(news.accessLevel, isUnknown));
  problems.push(...choiceInputProblems(news, isUnknown));

  const connection = news.connection;
  if (connection !== undefined && connection !== null && !isUnknown(connection)) {
    if (typeof connection !== "object" || Array.isArray(connection)) {
      fail("connection", "must be an object such as { address, apiKey }");
    } else {
      for (const key of Object.keys(connection)) {
        if (!(SETTING_NAMES as string[]).includes(key)) {
          fail(`connection.${key}`, `is not a connection setting; use ${SETTING_NAMES.join(", ")}`);
        }
      }
      const sources = [argumentSource(connection as RawSettings), ...ambient];
      problems.push(...connectionProblems(assemble(sources, isUnknown), isUnknown));
    }
  } else if (!isUnknown(connection)) {
    problems.push(...defaultConnectionProblems(ambient));
  }
  return problems;
}

/**
 * The problems of the default connection (the configuration, then the environment) alone,
 * checked once per `ambient` array: the provider keeps one for as long as its configuration
 * holds, and most resources name no connection of their own, so every check would repeat the
 * same work.
 */
const defaultChecks = new WeakMap<readonly ConnectionSource[], readonly Problem[]>();
function defaultConnectionProblems(ambient: readonly ConnectionSource[]): readonly Problem[] {
  let found = defaultChecks.get(ambient);
  if (!found) {
    const sources = [argumentSource(undefined), ...ambient];
    found = Object.freeze(connectionProblems(assemble(sources, isUnknown), isUnknown));
    defaultChecks.set(ambient, found);
  }
  return found;
}

function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

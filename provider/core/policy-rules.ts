import type { KeyPolicy, OctopusUser } from "../octopus/client";
import { isUnknown } from "./check";
import type { Problem } from "./connection/settings";
import { now, parseDuration, parseTimestamp } from "./time";

/**
 * What check refuses from the server's key policy (`GET /api/authentication`, read by
 * ./preview): what Octopus itself would refuse at `pulumi up`, caught at preview. Each rule
 * applies only to inputs that will make a key in this run (./preview says which); a policy
 * without the field a rule needs leaves it out, as does an owner that is not known.
 */

type Props = Record<string, unknown>;
const DAY_MS = 86_400_000;
/** Clocks disagree a little: an `expiresAt` is refused only when clearly beyond the maximum. */
const CLOCK_SLACK_MS = 5 * 60_000;

/** Which inputs this run makes a key from, so which rules apply. */
export interface Applies {
  /** `expiresIn`/`expiresAt` is new or changed: the maximum applies. */
  expiry: boolean;
  /** `rotateBefore` (or the lifetime it counts back from) is new or changed. */
  rotation: boolean;
}

export interface PolicyFacts {
  policy: KeyPolicy | undefined;
  serverUrl: string;
  /** The key's owner, when check could learn it in time. */
  owner?: OctopusUser;
}

const changed = (news: Props, olds: Props, property: string): boolean =>
  JSON.stringify(news[property] ?? null) !== JSON.stringify(olds[property] ?? null);

/** The rules that apply to `news`, a new resource when `olds` is empty. */
export function applies(news: Props, olds: Props): Applies {
  const fresh = Object.keys(olds).length === 0;
  // A value not known yet (preview) counts as given: whatever it turns out to be is not the
  // default. Only a known one can be checked.
  const given = (p: string) => news[p] !== undefined && news[p] !== null;
  const known = (p: string) => given(p) && !isUnknown(news[p]);
  const lifetime = ["expiresIn", "expiresAt"].some((p) => changed(news, olds, p));
  return {
    expiry: (known("expiresIn") || known("expiresAt")) && (fresh || lifetime),
    rotation:
      known("rotateBefore") &&
      !given("expiresIn") &&
      !given("expiresAt") &&
      (fresh || lifetime || changed(news, olds, "rotateBefore")),
  };
}

/** The problems of checked, known inputs against the server's policy. */
export function policyProblems(news: Props, rules: Applies, facts: PolicyFacts): Problem[] {
  const { policy, serverUrl, owner } = facts;
  if (!policy) return [];
  const problems: Problem[] = [];
  const max = policy.maxExpiryDays;
  if (rules.expiry && max !== undefined) {
    const lifetime = typeof news.expiresIn === "string" ? parseDuration(news.expiresIn) : undefined;
    if (lifetime !== undefined && lifetime > max * DAY_MS) {
      problems.push({
        property: "expiresIn",
        reason: `${news.expiresIn} is beyond the maximum key lifetime of ${max} days at ${serverUrl} (ApiKeyMaxExpiryDays), so Octopus would refuse the key; use at most ${max}d, or ask an administrator to raise the maximum`,
      });
    }
    const at = typeof news.expiresAt === "string" ? parseTimestamp(news.expiresAt) : undefined;
    if (at !== undefined && at > now() + max * DAY_MS + CLOCK_SLACK_MS) {
      problems.push({
        property: "expiresAt",
        reason: `${news.expiresAt} is beyond the maximum key lifetime of ${max} days at ${serverUrl} (ApiKeyMaxExpiryDays), so Octopus would refuse the key; choose an expiresAt at most ${max} days ahead, or use expiresIn of at most ${max}d`,
      });
    }
  }
  const byDefault = policy.defaultExpiryDays;
  if (rules.rotation && byDefault !== undefined && typeof news.rotateBefore === "string") {
    const window = parseDuration(news.rotateBefore);
    if (window !== undefined && window >= byDefault * DAY_MS) {
      problems.push({
        property: "rotateBefore",
        reason: `${news.rotateBefore} is not shorter than the default key lifetime of ${byDefault} days at ${serverUrl} (ApiKeyDefaultExpiryDays), which a key gets without expiresIn or expiresAt, so every run would rotate it; use a shorter rotateBefore, or give expiresIn (e.g. expiresIn: "90d" with rotateBefore: "30d")`,
      });
    }
  }
  if (policy.userApiKeysEnabled === false && owner?.IsService === false) {
    const property = typeof news.username === "string" ? "username" : "userId";
    const who =
      news.userId || news.username
        ? `${owner.Username} (${owner.Id})`
        : `the caller's own user, ${owner.Username} (${owner.Id})`;
    problems.push({
      property,
      reason: `the key would belong to ${who}, who is not a service account, and ${serverUrl} has API keys for users turned off (UserApiKeysEnabled is false), so Octopus would refuse it; create it for a service account (set username or userId to one, with an administrator's credentials), or ask an administrator to turn user API keys back on`,
    });
  }
  return problems;
}

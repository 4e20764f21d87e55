import type { OctopusApiKeyResource } from "../octopus/client";
import { reportedAccess } from "./access";
import { reportedActorType } from "./actor";
import { reportedOf } from "./plain-fields";
import { isExpired, rotateAt } from "./rotation";
import type { PlainOutputName } from "./fields";
import type { ApiKeyState } from "./state";
import { now } from "./time";

/** The outputs that a key's answer (its create or a GET) reports, and what they decide. */
export type Answered = Pick<ApiKeyState, PlainOutputName> &
  Pick<
    ApiKeyState,
    | "apiKeyId"
    | "created"
    | "expires"
    | "hint"
    | "expired"
    | "rotateAt"
    | "accessLevel"
    | "lastUsed"
    | "actorType"
  >;

/**
 * The outputs a key's answer gives, for create and refresh alike: `rotateBefore` and the clock
 * skew decide when it rotates, `hint` stands in when the answer shows none, and `access` replaces
 * what the answer reports about access (a create may have read it back with a GET).
 */
export function answered(
  key: OctopusApiKeyResource,
  {
    rotateBefore,
    clockSkewMs,
    hint,
    access = reportedAccess(key),
  }: {
    rotateBefore: string | null;
    clockSkewMs: number;
    hint: string;
    access?: Pick<ApiKeyState, "accessLevel" | "lastUsed">;
  },
): Answered {
  const expires = key.Expires ?? null;
  const shown = typeof key.ApiKey === "string" ? key.ApiKey.slice(0, 8) : key.ApiKey?.Hint;
  return {
    apiKeyId: key.Id,
    created: key.Created,
    expires,
    hint: shown || hint,
    expired: isExpired(expires, now(), clockSkewMs),
    rotateAt: rotateAt(expires, rotateBefore),
    ...access,
    actorType: reportedActorType(key),
    ...reportedOf(key),
  };
}

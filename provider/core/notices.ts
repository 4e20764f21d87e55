import type { Retiring } from "./overlap";
import type { ApiKeyState } from "./state";

/**
 * What the run tells the person running `pulumi` about keys left live or revoked by a rotation
 * (./overlap): key ids, owners, purposes and expiries, never a secret.
 */

const who = (state: ApiKeyState) => `${state.username || state.userId} (${state.userId})`;

/** A rotated-out key left live (`onRotation: "expire"`). */
export function keptNotice(state: ApiKeyState, id: string, replacedBy: string | undefined): string {
  return `The API key ${id} of ${who(state)}, purpose "${state.purpose}", was rotated out${replacedBy ? ` (replaced by ${replacedBy})` : ""} and stays live until it expires at ${state.expires} (onRotation: "expire"), so that what still uses it keeps working; Octopus will notify that it is expiring. Revoke it in Octopus to end the overlap sooner.`;
}

/** A rotation that could not keep its key: which new key replaced it was not clear. */
export function revokedNotice(state: ApiKeyState, id: string): string {
  return `The API key ${id} of ${who(state)}, purpose "${state.purpose}", was rotated out and revoked at once although onRotation is "expire": in this run, more than one resource with the same inputs rotated, and the dynamic resource cannot tell which new key replaced which. Give each resource its own purpose to keep the overlap.`;
}

/** A key gone from Octopus whose state named a retiring key, which nothing will track now. */
export function goneNotice(state: ApiKeyState, id: string, retiring: Retiring): string {
  return `The API key ${id} of ${who(state)} is gone from Octopus (revoked outside Pulumi, or its user deleted), so the resource leaves the state; the key it rotated out, ${retiring.retiringKeyId}, stays live until it expires at ${retiring.retiringKeyExpires}. If the key was revoked because of a leak, revoke ${retiring.retiringKeyId} in Octopus too.`;
}

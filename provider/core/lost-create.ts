import type { OctopusApiKeyResource, OctopusClient, OctopusUser } from "../octopus/client";
import { isTransient, neverSent } from "../octopus/client";
import { OctopusError } from "../octopus/errors";
import { matchMarker } from "./marker";

/**
 * After a create whose answer was lost: finding out whether it made a key, and cleaning up.
 *
 * The rule: a key is revoked only when it is proven to be the result of the very request whose
 * answer was lost. A create with an explicit lifetime sends an expiry whose exact instant (its
 * sub-second digits, and for `expiresIn` its seconds too) is chosen at random and unique among
 * this process's creates in flight for the same user and purpose (./marker); the key Octopus
 * lists with exactly that `Expires`, created after the request was sent, is the request's.
 * Anything else — a create with the server's default expiry, or a server that did not keep the
 * digits — proves nothing: every key is left alone, and the error names each candidate for a
 * person to revoke.
 */

/**
 * How much earlier than the request's send time (in server time) a key may be stamped and still
 * be looked at. The server clock is known from `Date` headers, which are truncated to the second,
 * so the estimate of the send time is already up to a second early: this only absorbs jitter.
 */
const RECONCILE_TOLERANCE_MS = 1_000;

/** Candidates named in one message; more are counted, so that a message stays readable. */
const MAX_NAMED = 20;

/** What the creating process knows while it reconciles. */
export interface Tracking {
  /** Keys this process created or tracks: never another create's lost key. */
  known: ReadonlySet<string>;
  /** Settles once the other creates in flight for the same user and purpose have. */
  othersSettled(): Promise<unknown>;
}

/**
 * A create whose answer was lost: looks among the user's keys for the request's own (by its
 * expiry marker) and revokes it, since its secret is lost with the answer. Polls for a while,
 * because a slow server may still finish the request after the client gave up.
 */
export async function reconcile(
  client: OctopusClient,
  user: OctopusUser,
  lost: LostCreate,
  tracking: Tracking,
): Promise<OctopusError> {
  const { purpose, sentAt, sent, cause } = lost;
  const who = `${user.Username} (${user.Id})`;
  const fail = (message: string) =>
    new OctopusError("UNKNOWN_OUTCOME", message, { method: "POST", path: cause.path, cause });
  const window = reconcileWindowMs(cause, client.timeoutMs);
  const deadline = Date.now() + window;
  let candidates: OctopusApiKeyResource[];
  for (let wait = 250; ; wait = Math.min(wait * 2, 4_000)) {
    let keys: OctopusApiKeyResource[];
    try {
      // Only keys created after the request was sent can be its result. `Created` is the
      // server's time: the server's Date header tells how far its clock is from ours.
      const since = sentAt + (client.serverClockOffsetMs ?? 0) - RECONCILE_TOLERANCE_MS;
      keys = await client.listApiKeys(user.Id, (k) => Date.parse(k.Created) < since);
      keys = keys.filter((k) => Date.parse(k.Created) >= since);
      // Other creates of this user and purpose in flight settle first, so that the keys they
      // got are known and never named as this one's.
      await tracking.othersSettled();
    } catch (listError) {
      return fail(
        `Creating an API key for ${who} failed (${cause.message}), and checking whether the key was made failed too (${(listError as Error).message}). A key with purpose "${purpose}"${sent === undefined ? "" : ` expiring ${new Date(sent).toISOString()}`} may exist without being tracked: look in Octopus under the user's API keys and revoke it, then run pulumi up again`,
      );
    }
    // Octopus may trim the purpose it stores.
    const untracked = keys.filter(
      (k) => k.Purpose?.trim() === purpose.trim() && !tracking.known.has(k.Id),
    );
    const ours =
      sent === undefined
        ? undefined
        : untracked.find((k) => matchMarker(k.Expires, sent) === "ours");
    if (ours) return revokeLost(client, user, ours, cause, fail);
    candidates =
      sent === undefined
        ? untracked
        : untracked.filter((k) => matchMarker(k.Expires, sent) === "unproven");
    if (Date.now() + wait > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, wait));
  }

  if (candidates.length === 0) {
    return fail(
      `Creating an API key for ${who} failed (${cause.message}); Octopus shows no new key with purpose "${purpose}" ${sent === undefined ? "" : "and the expiry this request sent "}after checking for ${Math.round(window / 1000)} s, so none was made. Run pulumi up again` +
        (stillWorking(cause)
          ? `. (If a key with that purpose ${sent === undefined ? `created around ${new Date(sentAt).toISOString()}` : `expiring ${new Date(sent).toISOString()}`} appears later, it is not tracked: revoke it in Octopus.)`
          : ""),
    );
  }
  const listed =
    candidates
      .slice(0, MAX_NAMED)
      .map((k) => `${k.Id} (created ${k.Created}, expires ${k.Expires ?? "never"})`)
      .join(", ") +
    (candidates.length > MAX_NAMED ? ` and ${candidates.length - MAX_NAMED} more` : "");
  const why =
    sent === undefined
      ? "it was created with the server's default expiry, which carries no mark of the request that made it"
      : `Octopus did not keep the exact expiry this request sent (${new Date(sent).toISOString()}), which would have marked its key`;
  return fail(
    `Creating an API key for ${who} failed (${cause.message}), and whether it made a key cannot be proven: ${why}. Octopus shows ${candidates.length === 1 ? "one key" : `${candidates.length} keys`} with purpose "${purpose}" created since the request that this deployment does not track: ${listed}. None was revoked, since ${candidates.length === 1 ? "it" : "any of them"} may belong to another deployment. If one is not in use, revoke it in Octopus (user ${who}, API keys), then run pulumi up again` +
      (sent === undefined
        ? "; set expiresIn or expiresAt on the resource so that a lost create is cleaned up automatically"
        : ""),
  );
}

/** Revokes a proven lost key; either way the create fails, saying what became of the key. */
async function revokeLost(
  client: OctopusClient,
  user: OctopusUser,
  key: OctopusApiKeyResource,
  cause: OctopusError,
  fail: (message: string) => OctopusError,
): Promise<OctopusError> {
  const who = `${user.Username} (${user.Id})`;
  try {
    await client.revokeApiKey(user.Id, key.Id);
  } catch (revokeError) {
    return fail(
      `Creating an API key for ${who} lost its answer (${cause.message}); the key was made (${key.Id}) but its secret cannot be recovered, and revoking it failed (${(revokeError as Error).message}). Revoke ${key.Id} in Octopus, then run pulumi up again`,
    );
  }
  return fail(
    `Creating an API key for ${who} lost its answer (${cause.message}). The key had been made (${key.Id}, identified by the exact expiry this request sent); as its secret was lost with the answer, it has been revoked. Nothing is left behind: run pulumi up again`,
  );
}

export interface LostCreate {
  group: string;
  purpose: string;
  /** When the request was sent, by this machine's clock. */
  sentAt: number;
  /** The expiry instant the request sent (its marker), or undefined for the server default. */
  sent: number | undefined;
  cause: OctopusError;
}

/** Whether the server may still be working on a request it did not answer. */
function stillWorking(cause: OctopusError): boolean {
  return cause.code === "TIMEOUT" || cause.status === 504;
}

/**
 * How long to keep looking for the key of a create whose outcome is unknown. A server that
 * answered or dropped the connection is done with the request: a short look suffices. One that
 * has not answered in time (or a gateway that gave up on it) may still finish it: look longer.
 */
function reconcileWindowMs(cause: OctopusError, timeoutMs: number): number {
  return stillWorking(cause) ? Math.min(15_000, Math.max(2_000, timeoutMs / 2)) : 1_000;
}

/**
 * Whether a failed POST may have created the key anyway: the connection broke or timed out after
 * sending, a gateway answered 5xx, or the answer was not a created key. A 4xx (429 included) means
 * Octopus refused the request.
 */
export function outcomeUnknown(error: unknown): error is OctopusError {
  if (!(error instanceof OctopusError)) return false;
  if (error.code === "BAD_RESPONSE") return true;
  if (error.status !== undefined) return error.status >= 500;
  return isTransient(error) && !neverSent(error);
}

import type { OctopusClient, OctopusUser } from "../octopus/client";
import { isTransient, neverSent } from "../octopus/client";
import { OctopusError } from "../octopus/errors";
import { AROUND_SEND_MS, earliestCreated, LostKeySearch, purposeFragment } from "./lost-keys";

/**
 * After a create whose answer was lost: finding out whether it made a key, and cleaning up.
 *
 * The rule: a key is revoked only when it is proven to be the result of the very request whose
 * answer was lost. A create with an explicit lifetime sends an expiry whose exact instant (its
 * sub-second digits, and for `expiresIn` its seconds too) is chosen at random and unique among
 * this process's creates in flight for the same user and purpose (./marker); the one key Octopus
 * lists with exactly that `Expires`, made around the send (./lost-keys: a window that allows for
 * clocks that disagree), is the request's. Anything else proves nothing — a create with the
 * server's default expiry, a server that rounded the expiry, two keys with the marker, a key with
 * another expiry — and every key is left alone. The create then never says that no key was made
 * while any untracked key with that purpose appeared around the send: it names each (id, created,
 * expires) for a person to revoke.
 */

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
  const partialPurpose = purposeFragment(purpose);
  const checkFailed = (listError: unknown) =>
    fail(
      `Creating an API key for ${who} failed (${cause.message}), and checking whether the key was made failed too (${(listError as Error).message}). A key with purpose "${purpose}"${sent === undefined ? "" : ` expiring ${iso(sent)}`} may exist without being tracked: look in Octopus under the user's API keys and revoke it, then run pulumi up again`,
    );
  /** One pass over the user's keys, narrowed on the server by `fragment` if given. */
  const look = async (fragment: string | undefined): Promise<LostKeySearch> => {
    // Other creates of this user and purpose in flight settle first, so that the keys they got
    // are known and never named as this one's.
    await tracking.othersSettled();
    const since = earliestCreated(sentAt, client.serverClockOffsetMs);
    const found = new LostKeySearch({ purpose, sent, since, known: tracking.known });
    await client.listApiKeys(user.Id, found.consider.bind(found), { partialPurpose: fragment });
    return found;
  };
  let search: LostKeySearch;
  for (let wait = 250; ; wait = Math.min(wait * 2, 4_000)) {
    try {
      search = await look(partialPurpose);
    } catch (listError) {
      return checkFailed(listError);
    }
    const ours = search.proven();
    if (ours) return revokeLost(client, user, ours.Id, cause, fail);
    if (Date.now() + wait > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
  if (search.total === 0 && partialPurpose !== undefined) {
    // How the server matches `partialPurpose` is not documented. Keys with one purpose pass or
    // fail it alike, so a filter that let any candidate through let this request's through; one
    // that let none through is not trusted with "none was made": one more look without it.
    try {
      search = await look(undefined);
    } catch (listError) {
      return checkFailed(listError);
    }
    const ours = search.proven();
    if (ours) return revokeLost(client, user, ours.Id, cause, fail);
  }

  if (search.total === 0) {
    return fail(
      `Creating an API key for ${who} failed (${cause.message}); after checking for ${Math.round(window / 1000)} s, Octopus shows no key with purpose "${purpose}" made since ${iso(search.since)} (server time, ${AROUND_SEND_MS / 60_000} minutes before the request, allowing for clocks that disagree)${sent === undefined ? "" : ` or carrying the expiry this request sent (${iso(sent)})`} that this deployment does not track, so none was made. Run pulumi up again` +
        (stillWorking(cause)
          ? `. (If a key with that purpose ${sent === undefined ? `created around ${iso(sentAt)}` : `expiring ${iso(sent)}`} appears later, it is not tracked: revoke it in Octopus.)`
          : ""),
    );
  }
  const named = search.named();
  const listed =
    named
      .map(({ key: k }) => `${k.Id} (created ${k.Created}, expires ${k.Expires ?? "never"})`)
      .join(", ") + (search.total > named.length ? ` and ${search.total - named.length} more` : "");
  const one = search.total === 1;
  return fail(
    `Creating an API key for ${who} failed (${cause.message}), and whether it made a key cannot be proven: ${unproven(search, sent)}. Octopus shows ${one ? "one key" : `${search.total} keys`} with purpose "${purpose}" that this deployment does not track, made around the request${sent === undefined ? "" : " or with an expiry close to its own"}: ${listed}. None was revoked, since ${one ? "it" : "any of them"} may belong to another deployment. If one is not in use, revoke it in Octopus (user ${who}, API keys), then run pulumi up again` +
      (sent === undefined
        ? "; set expiresIn or expiresAt on the resource so that a lost create is cleaned up automatically"
        : ""),
  );
}

/** Why the keys a search found do not prove which one, if any, the request made. */
function unproven(search: LostKeySearch, sent: number | undefined): string {
  if (sent === undefined) {
    return "it was created with the server's default expiry, which carries no mark of the request that made it";
  }
  const { exact, early, near } = search.counts;
  const marker = `the exact expiry this request sent (${iso(sent)})`;
  if (exact + early > 1) {
    return `${exact + early} keys carry ${marker}, so which one it made cannot be told`;
  }
  if (early > 0) {
    return `the key that carries ${marker} is stamped more than ${AROUND_SEND_MS / 60_000} minutes before the request was sent, by this machine's clock and by the server's Date header, so it may be an older request's that chose the same instant`;
  }
  if (near > 0) {
    return `Octopus did not keep ${marker}, which would have marked its key: ${near === 1 ? "one key has" : `${near} keys have`} an expiry within a second of it, as a server that rounds expiries lists them`;
  }
  const them =
    search.counts.other === 1
      ? "the key named next has another expiry and most likely belongs to another deployment"
      : "the keys named next have other expiries and most likely belong to other deployments";
  return `no key carries ${marker}, which would have marked its key; ${them}, but a server that changed the expiry it was sent would list this request's key the same way`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Revokes a proven lost key; either way the create fails, saying what became of the key. */
async function revokeLost(
  client: OctopusClient,
  user: OctopusUser,
  keyId: string,
  cause: OctopusError,
  fail: (message: string) => OctopusError,
): Promise<OctopusError> {
  const who = `${user.Username} (${user.Id})`;
  try {
    await client.revokeApiKey(user.Id, keyId);
  } catch (revokeError) {
    return fail(
      `Creating an API key for ${who} lost its answer (${cause.message}); the key was made (${keyId}) but its secret cannot be recovered, and revoking it failed (${(revokeError as Error).message}). Revoke ${keyId} in Octopus, then run pulumi up again`,
    );
  }
  return fail(
    `Creating an API key for ${who} lost its answer (${cause.message}). The key had been made (${keyId}, identified by the exact expiry this request sent); as its secret was lost with the answer, it has been revoked. Nothing is left behind: run pulumi up again`,
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
 * has not answered in time (or a gateway that gave up on it) may still finish it: look longer,
 * and at least a few seconds, whatever the timeout: a busy server (or a busy machine here) can
 * take that long to finish a request it was slow to answer.
 */
function reconcileWindowMs(cause: OctopusError, timeoutMs: number): number {
  return stillWorking(cause) ? Math.min(15_000, Math.max(5_000, timeoutMs / 2)) : 1_000;
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

import type { AccessLevel } from "./access";
import type { OctopusApiKeyResource, OctopusClient, OctopusUser } from "./client";
import { isTransient, neverSent } from "./client";
import { explainCreate } from "./advice";
import { OctopusError } from "./errors";

/**
 * How much earlier than the request's send time (in server time) a key may be stamped and still
 * count as its result: the Date header's 1-second resolution plus margin. Keys created longer ago
 * (say, by an earlier `pulumi up`) are never taken for a lost one.
 */
const RECONCILE_TOLERANCE_MS = 5_000;

/**
 * Creates keys, and cleans up after a create whose answer was lost. One instance per provider
 * process: it remembers the keys this process created or claimed, and the creates under way, so
 * that a reconciliation never mistakes another resource's key for its own.
 */
export class KeyCreator {
  /** Keys this process created or claimed; a reconciliation never mistakes them for its own. */
  private readonly known = new Set<string>();
  /** Creates under way per server, user and purpose, which a reconciliation waits for. */
  private readonly creating = new Map<string, Set<Promise<unknown>>>();

  /** POSTs the key once; when the outcome is unknown, finds out and cleans up before failing. */
  async create(
    client: OctopusClient,
    user: OctopusUser,
    purpose: string,
    expires: string | undefined,
    self: boolean,
    access: { accessLevel?: AccessLevel } = {},
  ): Promise<OctopusApiKeyResource> {
    const inFlight = this.inFlight(`${client.serverUrl}\n${user.Id}\n${purpose}`);
    const sentAt = Date.now();
    const attempt = client.createApiKey(user.Id, { purpose, expires, ...access }).then((key) => {
      this.known.add(key.Id);
      return key;
    });
    inFlight.add(attempt);
    try {
      return await attempt;
    } catch (error) {
      if (!outcomeUnknown(error)) throw explainCreate(error, user, expires, self);
      inFlight.delete(attempt);
      throw await this.reconcile(client, user, purpose, sentAt, error as OctopusError, inFlight);
    } finally {
      inFlight.delete(attempt);
    }
  }

  private inFlight(group: string): Set<Promise<unknown>> {
    let creates = this.creating.get(group);
    if (!creates) {
      creates = new Set();
      this.creating.set(group, creates);
    }
    return creates;
  }

  /**
   * A create whose answer was lost: looks for a key with this purpose that the user gained since
   * the request started, and revokes it (its secret is lost with the answer). Polls for a while,
   * because a slow server may still finish the request after the client gave up.
   */
  private async reconcile(
    client: OctopusClient,
    user: OctopusUser,
    purpose: string,
    sentAt: number,
    cause: OctopusError,
    inFlight: Set<Promise<unknown>>,
  ): Promise<OctopusError> {
    const who = `${user.Username} (${user.Id})`;
    const window = reconcileWindowMs(cause, client.timeoutMs);
    const deadline = Date.now() + window;
    for (let wait = 250; ; wait = Math.min(wait * 2, 4_000)) {
      let keys: OctopusApiKeyResource[];
      try {
        // Only keys created after the request was sent can be the lost one. `Created` is the
        // server's time: the server's Date header tells how far its clock is from ours.
        const createdSince = () =>
          sentAt + (client.serverClockOffsetMs ?? 0) - RECONCILE_TOLERANCE_MS;
        keys = await client.listApiKeys(user.Id, (k) => Date.parse(k.Created) < createdSince());
        keys = keys.filter((k) => Date.parse(k.Created) >= createdSince());
        // Any key listed was made by a request sent before the list was answered. Other creates
        // of this user and purpose then in flight settle first, so the keys they got are known
        // and never taken for the lost one.
        await Promise.allSettled([...inFlight]);
      } catch (listError) {
        return new OctopusError(
          "UNKNOWN_OUTCOME",
          `Creating an API key for ${who} failed (${cause.message}), and checking whether the key was made failed too (${(listError as Error).message}). A key with purpose "${purpose}" may exist without being tracked: look in Octopus under the user's API keys and revoke it, then run pulumi up again`,
          { method: "POST", path: cause.path, cause },
        );
      }
      // Octopus may trim the purpose it stores.
      const lost = keys.find((k) => k.Purpose?.trim() === purpose.trim() && !this.known.has(k.Id));
      if (lost) {
        this.known.add(lost.Id);
        try {
          await client.revokeApiKey(user.Id, lost.Id);
        } catch (revokeError) {
          return new OctopusError(
            "UNKNOWN_OUTCOME",
            `Creating an API key for ${who} lost its answer (${cause.message}); the key was made (${lost.Id}) but its secret cannot be recovered, and revoking it failed (${(revokeError as Error).message}). Revoke ${lost.Id} in Octopus, then run pulumi up again`,
            { method: "POST", path: cause.path, cause },
          );
        }
        return new OctopusError(
          "UNKNOWN_OUTCOME",
          `Creating an API key for ${who} lost its answer (${cause.message}). The key had been made (${lost.Id}); as its secret was lost with the answer, it has been revoked. Nothing is left behind: run pulumi up again`,
          { method: "POST", path: cause.path, cause },
        );
      }
      if (Date.now() + wait > deadline) {
        return new OctopusError(
          "UNKNOWN_OUTCOME",
          `Creating an API key for ${who} failed (${cause.message}); Octopus shows no new key with purpose "${purpose}" after checking for ${Math.round(window / 1000)} s, so none was made. Run pulumi up again` +
            (stillWorking(cause)
              ? `. (If a key with that purpose created around ${new Date(sentAt).toISOString()} appears later, it is not tracked: revoke it in Octopus.)`
              : ""),
          { method: "POST", path: cause.path, cause },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
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
function outcomeUnknown(error: unknown): boolean {
  if (!(error instanceof OctopusError)) return false;
  if (error.code === "BAD_RESPONSE") return true;
  if (error.status !== undefined) return error.status >= 500;
  return isTransient(error) && !neverSent(error);
}

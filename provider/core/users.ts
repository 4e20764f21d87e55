import type { OctopusUser } from "../octopus/client";
import { OctopusError } from "../octopus/errors";
import { explainLookup } from "./advice";
import type { Connected } from "./connection/connector";
import type { Owner } from "./fields";

/**
 * The users keys are made for, looked up once per server and user for the whole run: concurrent
 * resources share one request. Failed lookups are not cached.
 *
 * A lookup may start early, at check (see {@link ApiKeyLifecycle.check}), while the engine is
 * still between check and create. An early lookup that fails before any create shared it is
 * handed to the next create for the same user, once, so that create reports the answer its own
 * request would have had instead of asking again; any other create, or a later check, looks again.
 */
export class UserDirectory {
  private readonly users = new Map<string, Promise<OctopusUser>>();
  /** Early lookups that no create has shared yet. */
  private readonly unclaimed = new WeakSet<Promise<OctopusUser>>();
  /** Failed early lookups no create shared, for the next create of that user (once). */
  private readonly failedEarly = new Map<string, Promise<OctopusUser>>();

  find({ client, endpoint, id }: Connected, owner: Owner, early = false): Promise<OctopusUser> {
    const who = owner.userId
      ? `id:${owner.userId.toLowerCase()}`
      : owner.username
        ? // As given: `CI-Bot` and `ci-bot` may be two users, each matched exactly.
          `name:${owner.username}`
        : `me:${id}`;
    const cacheKey = `${endpoint.serverUrl}\n${who}`;
    let lookup = this.users.get(cacheKey);
    if (lookup) {
      if (!early) this.unclaimed.delete(lookup);
      return lookup;
    }
    const failed = this.failedEarly.get(cacheKey);
    this.failedEarly.delete(cacheKey);
    if (failed && !early) return failed;
    const started: Promise<OctopusUser> = (async () => {
      if (owner.userId) return client.getUser(owner.userId);
      if (!owner.username) return client.currentUser();
      const user = await client.findUserByUsername(owner.username);
      if (!user) {
        throw new OctopusError(
          "USER_NOT_FOUND",
          `No Octopus user at ${endpoint.serverUrl} has the username "${owner.username}"; check the spelling, or give userId instead`,
        );
      }
      return user;
    })().catch((error: unknown) => {
      this.users.delete(cacheKey);
      const explained = explainLookup(error, owner, endpoint);
      if (this.unclaimed.has(started)) {
        const handed = Promise.reject(explained);
        handed.catch(() => undefined);
        this.failedEarly.set(cacheKey, handed);
      }
      throw explained;
    });
    // A lookup started early may fail before any create awaits it: not an unhandled rejection.
    started.catch(() => undefined);
    lookup = started;
    if (early) this.unclaimed.add(lookup);
    this.users.set(cacheKey, lookup);
    return lookup;
  }
}

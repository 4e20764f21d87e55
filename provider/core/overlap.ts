import { createHash } from "node:crypto";
import type { OctopusClient } from "../octopus/client";
import { OctopusError } from "../octopus/errors";
import type { ApiKeyInputs } from "./fields";
import { isExpired } from "./rotation";
import type { ApiKeyState } from "./state";
import { now } from "./time";

/**
 * Overlap on rotation (`onRotation: "expire"`): a key that diff replaced because its rotation
 * came due, and for nothing else, is not revoked when the engine deletes it; it stays live until
 * its own expiry, and the key that replaced it names it (`retiringKeyId`, `retiringKeyExpires`).
 *
 * The engine calls diff, then create (the new key), then, at the end of the run, delete (the old
 * key), each with only part of the story, so this process ties them together in memory:
 * - diff (the old key's id, its state, the new inputs) notes a rotation that may keep its key;
 * - create claims that note for the new key: by the resource's URN where the front door has it
 *   (the plugin), else by the inputs themselves (the dynamic provider host gives create nothing
 *   else), and only when exactly one unclaimed note matches;
 * - delete keeps the old key only when a create claimed its note, so that a key left live is
 *   always named by its successor's state. Anything else revokes: destroy, removal, any other
 *   replacement, a delete this process saw no diff for (a run interrupted, finished by a later
 *   one), and two resources with the same inputs rotating in one run of the dynamic host.
 *
 * One retiring key per resource: the rotation after next, or any delete that revokes, revokes
 * the one the state names too, so no live key is left that no state names.
 */

/** Something a front door shows the person running `pulumi`; never a secret. */
export interface Notice {
  message: string;
  /** The resource it is about, when the front door knows it (the plugin). */
  urn?: string;
}
export type Notify = (notice: Notice) => Promise<void> | void;

/** What a front door knows of a call besides its properties: the plugin has the URN. */
export interface CallContext {
  urn?: string;
}

/** The retiring key a state names. */
export type Retiring = Pick<ApiKeyState, "retiringKeyId" | "retiringKeyExpires">;
export const NO_RETIRING: Retiring = { retiringKeyId: null, retiringKeyExpires: null };

interface Note {
  keyId: string;
  expires: string;
  /** The URN, or a hash of the inputs, that the replacement's create will bring. */
  match: string;
  /** The new key's id, once its create claimed this note. */
  claimedBy?: string;
}

export class RotationOverlap {
  /** Notes by the id of the key being rotated out; each lives from its diff to its delete. */
  private readonly notes = new Map<string, Note>();

  /** Diff of the key `id`: notes a replacement that may keep it, forgets any earlier note. */
  diffed(
    id: string,
    state: ApiKeyState,
    inputs: ApiKeyInputs,
    replaces: readonly string[],
    context: CallContext,
  ): void {
    this.notes.delete(id);
    const rotationAlone = replaces.length === 1 && replaces[0] === "rotateBefore";
    if (inputs.onRotation !== "expire" || !rotationAlone || state.expires === null) return;
    // An expired key has no life left to overlap: it is revoked as always.
    if (isExpired(state.expires, now(), state.clockSkewMs)) return;
    this.notes.set(id, { keyId: id, expires: state.expires, match: matchOf(inputs, context) });
  }

  /**
   * Create of a new key `newKeyId`: the key it replaces by rotation, claimed so that its delete
   * keeps it; none when no note, or more than one, matches.
   */
  claim(inputs: ApiKeyInputs, context: CallContext, newKeyId: string): Retiring {
    if (this.notes.size === 0) return NO_RETIRING;
    const match = matchOf(inputs, context);
    const open = [...this.notes.values()].filter((n) => n.match === match && !n.claimedBy);
    if (open.length !== 1) return NO_RETIRING;
    open[0].claimedBy = newKeyId;
    return { retiringKeyId: open[0].keyId, retiringKeyExpires: open[0].expires };
  }

  /** Delete of the key `id`: its note, forgotten (claimed: keep the key). */
  release(id: string): { kept: boolean; noted: boolean; replacedBy?: string } {
    const note = this.notes.get(id);
    this.notes.delete(id);
    return {
      kept: note?.claimedBy !== undefined,
      noted: note !== undefined,
      replacedBy: note?.claimedBy,
    };
  }

  /** Notes held, for tests and benchmarks of a long run's memory. */
  get size(): number {
    return this.notes.size;
  }
}

/** The retiring key `state` names, or none once it has expired (by the server's clock). */
export function liveRetiring(state: ApiKeyState): Retiring {
  const { retiringKeyId, retiringKeyExpires } = state;
  if (!retiringKeyId || !retiringKeyExpires) return NO_RETIRING;
  if (isExpired(retiringKeyExpires, now(), state.clockSkewMs)) return NO_RETIRING;
  return { retiringKeyId, retiringKeyExpires };
}

/**
 * The retiring key `state` names, as a refresh finds it: none once expired or gone (404). Any
 * other failure to read it keeps what the state says: it only informs, and the key itself was
 * read.
 */
export async function refreshedRetiring(
  client: OctopusClient,
  state: ApiKeyState,
): Promise<Retiring> {
  const live = liveRetiring(state);
  if (!live.retiringKeyId) return live;
  try {
    await client.getApiKey(state.userId, live.retiringKeyId);
    return live;
  } catch (error) {
    return error instanceof OctopusError && error.status === 404 ? NO_RETIRING : live;
  }
}

/** What a create brings that its diff saw too: the URN, else the inputs (hashed, never kept). */
function matchOf(inputs: ApiKeyInputs, context: CallContext): string {
  if (context.urn) return `urn\n${context.urn}`;
  const { __provider: _text, ...given } = inputs as ApiKeyInputs & { __provider?: unknown };
  return `inputs\n${createHash("sha256").update(stable(given)).digest("base64")}`;
}

function stable(value: unknown): string {
  return (
    JSON.stringify(value, (_key, v: unknown) =>
      v && typeof v === "object" && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))
        : v,
    ) ?? "undefined"
  );
}

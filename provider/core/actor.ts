import type { OctopusApiKeyResource } from "../octopus/client";
import type { ActorType, ApiKeyInputs } from "./fields";
import type { ApiKeyState } from "./state";

/**
 * Keys for AI agents: the `actorType` input, sent on create as `ActorType`, and what the server
 * reports (OctopusDeploy/Issues #10066; REST reference `api-keys.md`). Unlike `accessLevel` it
 * is a label for audit logs, not a permission: a server that ignores it still makes the key,
 * which is kept, and the output says what the server reported.
 */

/** What Octopus makes when none is asked for. */
const SERVER_DEFAULT: ActorType = "User";

/** Reported types are short identifiers; anything else is not one Octopus sends. */
const TYPE_TEXT = /^[A-Za-z]{1,64}$/;

/** The create option for the type asked for: nothing when the server's default is wanted. */
export function actorTypeOption(inputs: ApiKeyInputs): { actorType?: ActorType } {
  return inputs.actorType ? { actorType: inputs.actorType } : {};
}

/** The actor type a key's answer reports, or null (before 2026.3, or not an identifier). */
export function reportedActorType(key: OctopusApiKeyResource): string | null {
  const type = key.ActorType;
  return typeof type === "string" && TYPE_TEXT.test(type) ? type : null;
}

/**
 * Whether the key must be replaced for its actor type (a known input): another type asked for
 * than the one it was made with. `"User"` and the default are the same key. What the server
 * reported does not count: a server that ignored the field keeps its key.
 */
export function actorTypeReplaced(state: ApiKeyState, inputs: ApiKeyInputs): boolean {
  return (inputs.actorType ?? SERVER_DEFAULT) !== (state.requestedActorType ?? SERVER_DEFAULT);
}

/** Whether the stored input differs without changing the key (`"User"` ↔ the default). */
export function actorTypeUpdated(state: ApiKeyState, inputs: ApiKeyInputs): boolean {
  return (inputs.actorType ?? null) !== state.requestedActorType;
}

/**
 * The `actorType` an imported key's view takes from the program's input: the input itself when
 * the key is what it asks for (an `AiAgent` key for `"AiAgent"`, any other for `"User"` or none),
 * else undefined, and diff compares with what import stored (`"AiAgent"` for an agent's key).
 */
export function importedActorType(
  reported: string | null,
  given: ActorType | undefined,
): ActorType | null | undefined {
  const agent = reported === "AiAgent";
  if (given === undefined) return agent ? undefined : null;
  return (given === "AiAgent") === agent ? given : undefined;
}

import { normalizeServerUrl } from "../octopus/endpoint";
import { usernameMatch } from "../octopus/usernames";
import { accessLevelReplaced, accessLevelUpdated } from "./access";
import { actorTypeReplaced, actorTypeUpdated } from "./actor";
import { isUnknown } from "./check";
import type { ApiKeyInputs } from "./fields";
import { changedPlainInputs, plainInputNames } from "./plain-fields";
import { rotationDue } from "./rotation";
import { ApiKeyState, userSelector } from "./state";
import { now, parseDuration, parseTimestamp } from "./time";

type Props = Record<string, unknown>;

/** The inputs whose change replaces the key (create the new one first, then revoke the old). */
export function replacedProperties(
  state: ApiKeyState,
  inputs: ApiKeyInputs,
  serverUrl: string | undefined,
): string[] {
  const replaces: string[] = [];
  const changed = (property: keyof ApiKeyInputs, differs: () => boolean) => {
    if (isUnknown(inputs[property]) || differs()) replaces.push(property);
  };

  changed("purpose", () => inputs.purpose !== state.purpose);
  changed("accessLevel", () => accessLevelReplaced(state, inputs));
  changed("actorType", () => actorTypeReplaced(state, inputs));
  // Values Octopus keeps as given (./plain-fields): a key made with another one is another key.
  const plain = new Set(changedPlainInputs(state.requested, inputs));
  for (const property of plainInputNames()) {
    changed(property as keyof ApiKeyInputs, () => plain.has(property));
  }

  if (inputs.userId !== undefined) {
    // Octopus ids are case-insensitive (`users-2` is `Users-2`), as its database compares them.
    changed("userId", () => inputs.userId?.toLowerCase() !== state.userId.toLowerCase());
  } else if (inputs.username !== undefined) {
    // The lookup's rule (../octopus/usernames): the same name, or the same but for letter case
    // with no compatibility folding; `kate-bot` spelled with the Kelvin sign (U+212A) for its
    // `k` is another user, as the lookup finds.
    const { username } = inputs;
    changed(
      "username",
      () => typeof username !== "string" || usernameMatch(username, state.username) === undefined,
    );
  } else if (state.userSelector !== "me") {
    // From a named user to "the caller": without asking the server, it cannot be the same user.
    replaces.push(state.userSelector === "id" ? "userId" : "username");
  }

  if (inputs.expiresAt !== undefined) {
    changed(
      "expiresAt",
      () =>
        state.expiresAt === null ||
        parseTimestamp(inputs.expiresAt as string) !== parseTimestamp(state.expiresAt),
    );
  } else if (inputs.expiresIn !== undefined) {
    changed(
      "expiresIn",
      () =>
        state.expiresIn === null ||
        parseDuration(inputs.expiresIn as string) !== parseDuration(state.expiresIn),
    );
  } else if (state.expiresAt !== null || state.expiresIn !== null) {
    replaces.push(state.expiresAt !== null ? "expiresAt" : "expiresIn");
  }

  const connection = inputs.connection as Record<string, unknown> | undefined;
  // State written before the API root was read as the server (`https://host/api`) compares as
  // the server it names.
  const stored = normalizeServerUrl(state.serverUrl).url ?? state.serverUrl;
  if (isUnknown(connection) || isUnknown(connection?.address) || serverUrl !== stored) {
    replaces.push("connection");
  }

  changed(
    "rotationTriggers",
    () => stableJson(inputs.rotationTriggers ?? null) !== stableJson(state.rotationTriggers),
  );

  if (!isUnknown(inputs.rotateBefore)) {
    if (rotationDue(state.expires, inputs.rotateBefore ?? null, now(), state.clockSkewMs))
      replaces.push("rotateBefore");
  }
  return replaces;
}

/** Changes that keep the key: credentials, rotateBefore outside the window, equivalent spellings. */
export function updatedInPlace(state: ApiKeyState, inputs: ApiKeyInputs): boolean {
  return (
    stableJson(inputs.connection ?? null) !== stableJson(state.connection) ||
    (inputs.rotateBefore ?? null) !== state.rotateBefore ||
    (inputs.expiresAt ?? null) !== state.expiresAt ||
    (inputs.expiresIn ?? null) !== state.expiresIn ||
    userSelector(inputs) !== state.userSelector ||
    accessLevelUpdated(state, inputs) ||
    actorTypeUpdated(state, inputs)
  );
}

function stableJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Props).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}

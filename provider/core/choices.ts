import type { Problem } from "./connection/settings";
import { ACTOR_TYPES, ON_ROTATION } from "./fields";

/**
 * The problem with an input that takes one of a few strings (`onRotation`, `actorType`), if any:
 * naming the values, what was given (bounded), the value it looks like, and what omitting it
 * means. Nothing here talks to Octopus; a value not known yet (`isUnknown`) is checked once known.
 */
export function choiceProblems(
  property: string,
  value: unknown,
  values: readonly string[],
  omitted: string,
  isUnknown: (v: unknown) => boolean,
): Problem[] {
  if (value === undefined || value === null || isUnknown(value)) return [];
  if (typeof value === "string" && values.includes(value)) return [];
  const squash = (text: string) => text.replace(/[\s_-]/g, "").toLowerCase();
  const close =
    typeof value === "string" ? values.find((v) => squash(v) === squash(value)) : undefined;
  const given =
    typeof value === "string"
      ? JSON.stringify(value.slice(0, 40))
      : typeof value === "object"
        ? "an object"
        : `a ${typeof value}`;
  const named = values.map((v) => JSON.stringify(v));
  const either = `${named.slice(0, -1).join(", ")} or ${named[named.length - 1]}`;
  return [
    {
      property,
      reason:
        `must be ${either}, not ${given}` +
        (close ? ` (did you mean "${close}"?)` : "") +
        `; omit it for ${omitted}`,
    },
  ];
}

/** The problems of the inputs that take one of a few strings, besides `accessLevel` (./access). */
export function choiceInputProblems(
  news: Record<string, unknown>,
  isUnknown: (v: unknown) => boolean,
): Problem[] {
  return [
    ...choiceProblems(
      "onRotation",
      news.onRotation,
      ON_ROTATION,
      'revoking at once, "revoke"',
      isUnknown,
    ),
    ...choiceProblems(
      "actorType",
      news.actorType,
      ACTOR_TYPES,
      'the server\'s default, "User"',
      isUnknown,
    ),
  ];
}

import { OUTPUT_NAMES } from "../provider/core/fields";
import {
  ApiKeyState,
  INTERNAL_DEFAULTS,
  STATE_VERSION,
  stored,
  upgradeState,
} from "../provider/core/state";

// The stored state leaves out bookkeeping fields at their default (a smaller state costs less on
// every call), keeps every declared output (null where absent), and reads back the same.

const base: ApiKeyState = {
  stateVersion: STATE_VERSION,
  apiKey: "API-ABCDEFGHIJKLMNOPQRSTUVWXYZ12",
  apiKeyId: "apikeys-1",
  userId: "Users-1",
  username: "ci-bot",
  purpose: "p",
  created: "2026-01-01T00:00:00Z",
  expires: null,
  hint: "API-ABCD",
  serverUrl: "https://octopus.example.com",
  expired: false,
  rotateAt: null,
  accessLevel: null,
  lastUsed: null,
  actorType: null,
  retiringKeyId: null,
  retiringKeyExpires: null,
  userSelector: "me",
  expiresAt: null,
  expiresIn: null,
  rotateBefore: null,
  rotationTriggers: null,
  requestedAccessLevel: null,
  requestedActorType: null,
  connection: null,
  requested: null,
  clockSkewMs: 0,
  imported: false,
};

/** The outputs the resource declares: always present. */
const DECLARED = OUTPUT_NAMES;

test("bookkeeping fields at their default are left out; declared outputs stay, null included", () => {
  const out = stored(base) as Record<string, unknown>;
  for (const field of DECLARED) expect(out).toHaveProperty(field);
  expect(out.expires).toBeNull();
  for (const field of Object.keys(INTERNAL_DEFAULTS)) {
    expect(out).not.toHaveProperty(field);
  }
  expect(upgradeState(out)).toEqual(base);
});

test("bookkeeping fields with a value are kept and read back", () => {
  const full: ApiKeyState = {
    ...base,
    expiresIn: "90d",
    rotateBefore: "14d",
    rotationTriggers: { schedule: "q1" },
    requestedAccessLevel: "ReadOnly",
    requestedActorType: "AiAgent",
    connection: { address: "https://octopus.example.com" },
    clockSkewMs: -3,
  };
  const out = stored(full) as Record<string, unknown>;
  expect(out).toMatchObject({
    expiresIn: "90d",
    clockSkewMs: -3,
    requestedAccessLevel: "ReadOnly",
    requestedActorType: "AiAgent",
  });
  expect(upgradeState(out)).toEqual(full);
});

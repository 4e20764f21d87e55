import type { OctopusApiKeyResource } from "../provider/octopus/client";
import {
  AROUND_SEND_MS,
  earliestCreated,
  LostKeySearch,
  MAX_NAMED,
  purposeFragment,
} from "../provider/core/lost-keys";
import { keptByCoarseServer, markedExpiry } from "../provider/core/marker";

// Which listed keys a lost create looks at, names and may revoke; the host-level cases are in
// lost-create.test.ts and reconcile.test.ts. These check the parts a host cannot reach cheaply:
// order independence, the bound on what is kept, and the rare standings.

const SENT_AT = Date.parse("2026-12-01T10:00:00.000Z");
const SENT = Date.parse("2027-01-01T10:00:00.421Z");
const since = earliestCreated(SENT_AT, 0);

let serial = 0;
function key(o: { purpose?: string; created?: number; expires?: number | null }) {
  serial++;
  return {
    Id: `apikeys-${String(serial).padStart(6, "0")}`,
    Purpose: o.purpose ?? "deploy",
    UserId: "Users-1",
    Created: new Date(o.created ?? SENT_AT + 100).toISOString(),
    Expires: o.expires === null ? null : new Date(o.expires ?? SENT + 86_400_000).toISOString(),
  } satisfies OctopusApiKeyResource;
}

function search(keys: OctopusApiKeyResource[], known: string[] = []) {
  const found = new LostKeySearch({ purpose: "deploy", sent: SENT, since, known: new Set(known) });
  for (const k of keys) found.consider(k);
  return found;
}

test("the window starts at the earlier estimate of the send, less the allowance", () => {
  expect(earliestCreated(SENT_AT, undefined)).toBe(SENT_AT - AROUND_SEND_MS);
  expect(earliestCreated(SENT_AT, 8_000)).toBe(SENT_AT - AROUND_SEND_MS);
  expect(earliestCreated(SENT_AT, -8_000)).toBe(SENT_AT - 8_000 - AROUND_SEND_MS);
});

test("the only exact key around the send is proven; a second one, or an early one, makes none", () => {
  const ours = key({ expires: SENT });
  expect(search([key({}), ours]).proven()?.Id).toBe(ours.Id);
  const twin = key({ expires: SENT, created: SENT_AT + 900 });
  expect(search([ours, twin]).proven()).toBeUndefined();
  expect(search([ours, twin]).counts.exact).toBe(2);
  const early = key({ expires: SENT, created: since - 1 });
  const found = search([early, ours]);
  expect(found.proven()).toBeUndefined();
  expect(found.named().map((c) => [c.key.Id, c.standing])).toEqual([
    [ours.Id, "exact"],
    [early.Id, "early"],
  ]);
  // Without a marker nothing is proven.
  const unmarked = new LostKeySearch({
    purpose: "deploy",
    sent: undefined,
    since,
    known: new Set(),
  });
  unmarked.consider(ours);
  expect(unmarked.proven()).toBeUndefined();
  expect(unmarked.counts.other).toBe(1);
});

test("near expiries are named whenever made; other expiries only around the send", () => {
  const rounded = key({ expires: SENT + 2 });
  const cut = key({ expires: SENT - 421, created: since - 60_000 });
  const theirs = key({ expires: SENT + 5_000 });
  const old = key({ expires: SENT + 5_000, created: since - 1 });
  const found = search([old, theirs, cut, rounded]);
  expect(found.counts).toEqual({ exact: 0, early: 0, near: 2, other: 1 });
  expect(found.named().map((c) => c.key.Id)).toEqual([rounded.Id, cut.Id, theirs.Id]);
});

test("only untracked keys with exactly the purpose (trimmed) count", () => {
  const tracked = key({ expires: SENT });
  const found = search(
    [
      tracked,
      key({ purpose: "Deploy" }),
      key({ purpose: "deploy 2" }),
      key({ purpose: " deploy " }),
    ],
    [tracked.Id],
  );
  expect(found.total).toBe(1);
  expect(found.proven()).toBeUndefined();
});

test("10,000 keys in any order: the same few named, best first, and the rest counted", () => {
  const keys = Array.from({ length: 10_000 }, (_, i) =>
    key({ created: SENT_AT + (i % 5_000), expires: i === 7_777 ? SENT - 1 : SENT + 9_999 + i }),
  );
  const forward = search(keys);
  const shuffled = [...keys];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
  }
  const mixed = search(shuffled);
  const backward = search([...keys].reverse());
  const ids = (s: LostKeySearch) => s.named().map((c) => c.key.Id);
  expect(forward.named()).toHaveLength(MAX_NAMED);
  expect(forward.total).toBe(10_000);
  expect(ids(mixed)).toEqual(ids(forward));
  expect(ids(backward)).toEqual(ids(forward));
  // The near key first, then the newest.
  expect(forward.named()[0].key.Id).toBe(keys[7_777].Id);
  expect(forward.named()[1].created).toBe(SENT_AT + 4_999);
});

test("the purpose fragment is plain text the stored purpose contains under any matching rule", () => {
  expect(purposeFragment("CI deploy key for web-app (prod)")).toBe("web-app");
  expect(purposeFragment("  lost in 12 ")).toBe("lost");
  expect(purposeFragment("a_b%c[d]e^f")).toBeUndefined();
  expect(purposeFragment("clé de déploiement")).toBe("ploiement");
  expect(purposeFragment("ab")).toBeUndefined();
  expect(purposeFragment("日本語のキー")).toBeUndefined();
});

test("markers are never an instant a coarser server could list", () => {
  const latest = Date.parse("2027-01-01T00:00:00Z");
  for (let i = 0; i < 2_000; i++) {
    const sent = markedExpiry({ latest, slackMs: 1_000 }, new Set());
    expect(keptByCoarseServer(sent)).toBe(false);
    expect([0, 3, 7]).not.toContain(sent % 10);
    expect(sent).toBeLessThanOrEqual(latest);
  }
});

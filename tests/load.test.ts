import { FAULT_KINDS } from "../emulator/faults";
import { OctopusEmulator } from "../emulator/server";
import { emulatorEnv, Engine } from "../harness/engine";

// Load with faults: 200 keys for one user, all with the same purpose (the hardest case for
// telling a lost create's key from the others), created and destroyed through one provider host
// at parallelism 16, while the emulator injects random faults into 5% of requests. The keys have
// an explicit lifetime: that is what lets a lost create's key be proven and revoked (with the
// server's default expiry it is named instead; see reconcile.test.ts and faults.test.ts).

const N = 200;
const PARALLELISM = 16;
const FAULT_RATE = 0.05;
const PURPOSE = "load test";

let emulator: OctopusEmulator;
let engine: Engine;

async function pool<T>(items: T[], run: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: PARALLELISM }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await run(item);
    }),
  );
}

function liveLoadKeys(): string[] {
  return emulator
    .liveKeys()
    .filter((k) => k.Purpose === PURPOSE)
    .map((k) => k.Id)
    .sort();
}

beforeAll(async () => {
  emulator = await OctopusEmulator.start({ seed: 7 });
  engine = await Engine.start({ env: emulatorEnv(emulator) });
});
afterAll(async () => {
  await engine?.close();
  await emulator?.close();
});

test(`${N} keys at parallelism ${PARALLELISM} with ${FAULT_RATE * 100}% random faults: nothing lost, nothing left`, async () => {
  const started = Date.now();
  const names = Array.from({ length: N }, (_, i) => `load-${i}`);
  emulator.faults.random({ rate: FAULT_RATE, kinds: [...FAULT_KINDS], ms: 200, seed: 42 });

  let createFailures = 0;
  await pool(names, async (name) => {
    try {
      await engine.up(name, {
        purpose: PURPOSE,
        username: emulator.serviceAccount.username,
        expiresIn: "30d",
      });
    } catch {
      createFailures++;
    }
  });
  await emulator.idle();
  const tracked = [...engine.state.values()].map((r) => r.id).sort();
  expect(tracked.length + createFailures).toBe(N);
  // The emulator holds exactly the keys that succeeded.
  expect(liveLoadKeys()).toEqual(tracked);
  const faultsDuringCreate = emulator.faults.total();

  let destroyPasses = 0;
  let destroyFailures = 0;
  while (engine.state.size > 0 && destroyPasses < 10) {
    destroyPasses++;
    await pool([...engine.state.keys()], async (name) => {
      try {
        await engine.destroy(name);
      } catch {
        destroyFailures++; // stays in state, as the engine keeps it: the next destroy retries
      }
    });
  }
  await emulator.idle();
  expect(engine.state.size).toBe(0);
  expect(liveLoadKeys()).toEqual([]);

  console.log(
    `load: ${N} resources, parallelism ${PARALLELISM}, fault rate ${FAULT_RATE}: ` +
      `${tracked.length} created, ${createFailures} creates failed cleanly, ` +
      `${emulator.faults.total()} faults injected (${faultsDuringCreate} during creates; ` +
      `${JSON.stringify(emulator.faults.injected)}), ${destroyFailures} destroy failures retried ` +
      `over ${destroyPasses} destroy pass(es), ${emulator.stats.requests} requests, ` +
      `0 orphans, 0 phantoms, ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
}, 300_000);

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import {
  HostCallError,
  type ProviderHost,
  resourceUrn,
  startProviderHost,
  UNKNOWN,
} from "../harness/host";
import { captureProviderText } from "../harness/mocks";

// The harness's own test: a tiny file-backed provider, defined here and serialized like any dynamic provider.
// Its functions only reach built-in modules (via process.getBuiltinModule), so its text evaluates anywhere.

const repoRoot = path.resolve(__dirname, "..", "..");
const API_KEY = "API-HARNESSSECRET";
const settings = { dir: "", apiKey: "" };

function recordFile(id: string): string {
  return process.getBuiltinModule("node:path").join(settings.dir, `${id}.json`);
}

const fileProvider: pulumi.dynamic.ResourceProvider = {
  async configure(req) {
    settings.dir = req.config.require("harness:stateDir");
    settings.apiKey = req.config.require("harness:apiKey");
  },
  async check(_olds, news) {
    const ok = typeof news.label === "string" && news.label.trim() !== "";
    const failures = ok ? [] : [{ property: "label", reason: "label must be a non-empty string" }];
    return { inputs: { ...news, label: ok ? news.label.trim() : news.label }, failures };
  },
  async diff(_id, olds, news) {
    const replaces = olds.label === news.label ? [] : ["label"];
    return { changes: replaces.length > 0 || olds.note !== news.note, replaces };
  },
  async create(inputs) {
    const { randomUUID } = process.getBuiltinModule("node:crypto");
    if (inputs.label === "slow") await new Promise((resolve) => setTimeout(resolve, 60_000));
    if (inputs.label === "half-made") {
      const properties = { label: inputs.label, __provider: inputs.__provider };
      throw Object.assign(new Error("token failed after the record existed"), {
        id: "half-made-id",
        properties,
        reasons: ["token service down"],
      });
    }
    const id = randomUUID();
    const outs = {
      label: inputs.label,
      note: inputs.note ?? null,
      token: `tok-${id}`,
      by: settings.apiKey.slice(0, 3),
    };
    process.getBuiltinModule("node:fs").writeFileSync(recordFile(id), JSON.stringify(outs));
    return { id, outs };
  },
  async read(id, props) {
    const fsm = process.getBuiltinModule("node:fs");
    if (!fsm.existsSync(recordFile(id))) return { id: undefined };
    return { id, props: { ...props, ...JSON.parse(fsm.readFileSync(recordFile(id), "utf8")) } };
  },
  async update(id, olds, news) {
    const outs = { ...olds, note: news.note ?? null };
    delete outs.__provider;
    process.getBuiltinModule("node:fs").writeFileSync(recordFile(id), JSON.stringify(outs));
    return { outs };
  },
  async delete(id) {
    process.getBuiltinModule("node:fs").rmSync(recordFile(id)); // throws when already gone
  },
};

const TYPE = "pulumi-nodejs:dynamic/octopusdeploy:ApiKey";

class HarnessResource extends pulumi.dynamic.Resource {
  constructor(name: string, props: pulumi.Inputs, opts?: pulumi.CustomResourceOptions) {
    super(fileProvider, name, props, opts, "octopusdeploy", "ApiKey");
  }
}

describe("provider host harness", () => {
  let stateDir: string;
  let text: string;
  let host: ProviderHost;

  beforeAll(async () => {
    stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "host-harness-"));
    const captured = await captureProviderText(() => {
      new HarnessResource("first", { label: "alpha" }, { additionalSecretOutputs: ["token"] });
    });
    text = captured.text;
    expect(captured.registrations).toEqual([
      {
        type: TYPE,
        name: "first",
        inputs: { label: "alpha", __provider: text },
        additionalSecretOutputs: ["token"],
      },
    ]);
    host = await startProviderHost({ cwd: repoRoot });
  });

  afterAll(async () => {
    await host?.close();
    fs.rmSync(stateDir, { recursive: true, force: true });
  });

  const records = () => fs.readdirSync(stateDir).length;

  it("refuses CRUD before configure, then configures with a secret", async () => {
    await expect(host.check(resourceUrn("x"), {}, { __provider: text })).rejects.toThrow(
      /configure/,
    );
    await host.configure(
      { "harness:stateDir": stateDir, "harness:apiKey": API_KEY },
      { secretKeys: ["harness:apiKey"] },
    );
  });

  it("runs check, create, diff, update, read and delete like the engine", async () => {
    const urn = resourceUrn("first");
    const checked = await host.check(urn, {}, { label: " alpha ", note: "n1", __provider: text });
    expect(checked).toEqual({
      inputs: { label: "alpha", note: "n1", __provider: text },
      failures: [],
    });

    const bad = await host.check(urn, {}, { label: "", __provider: text });
    expect(bad.failures).toEqual([
      { property: "label", reason: "label must be a non-empty string" },
    ]);
    const preview = await host.check(urn, {}, { label: UNKNOWN, __provider: text });
    expect(preview.inputs.label).toBe(UNKNOWN);
    expect(await host.create(urn, preview.inputs, { preview: true })).toEqual({
      id: "",
      properties: preview.inputs,
    });
    expect(records()).toBe(0);

    const created = await host.create(urn, checked.inputs);
    expect(created.properties).toEqual({
      label: "alpha",
      note: "n1",
      token: `tok-${created.id}`,
      by: API_KEY.slice(0, 3), // the secret config value arrives unwrapped
      __provider: text,
    });
    const { id } = created;

    const news = { ...checked.inputs, note: "n2" };
    expect(await host.diff(id, urn, created.properties, checked.inputs)).toEqual({
      changes: "none",
      replaces: [],
      deleteBeforeReplace: false,
    });
    expect(await host.diff(id, urn, created.properties, news)).toMatchObject({
      changes: "some",
      replaces: [],
    });
    expect(await host.diff(id, urn, created.properties, { ...news, label: "beta" })).toMatchObject({
      replaces: ["label"],
    });

    const updated = await host.update(id, urn, created.properties, news);
    expect(updated.properties).toEqual({ ...created.properties, note: "n2" });

    const read = await host.read(id, urn, updated.properties, news);
    expect(read).toEqual({ id, properties: updated.properties });

    await host.delete(id, urn, updated.properties);
    expect(records()).toBe(0);
    expect(await host.read(id, urn, updated.properties, news)).toMatchObject({ id: "" });
    const gone = await host.delete(id, urn, updated.properties).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(HostCallError);
    expect(gone).toMatchObject({
      grpcCode: 2,
      partial: undefined,
      message: expect.stringMatching(/ENOENT/),
    });
    expect(host.output()).not.toContain(API_KEY);
  });

  it("surfaces a create error carrying an id as a partial failure", async () => {
    const urn = resourceUrn("half");
    const error = await host
      .create(urn, { label: "half-made", __provider: text })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HostCallError);
    expect(error).toMatchObject({
      message: "token failed after the record existed",
      grpcCode: 2,
      partial: {
        id: "half-made-id",
        properties: { label: "half-made", __provider: text },
        reasons: ["token service down"],
      },
    });
    // Without __provider in a bag the host cannot load the provider at all.
    await expect(host.delete("half-made-id", urn, { label: "half-made" })).rejects.toBeInstanceOf(
      HostCallError,
    );
  });

  it("serves parallel creates on one host", async () => {
    const results = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        host.create(resourceUrn(`p${i}`), { label: `p${i}`, __provider: text }),
      ),
    );
    expect(new Set(results.map((r) => r.id)).size).toBe(16);
    expect(results.map((r) => r.properties.label)).toEqual(
      Array.from({ length: 16 }, (_, i) => `p${i}`),
    );
    expect(records()).toBe(16);
    await Promise.all(results.map((r, i) => host.delete(r.id, resourceUrn(`p${i}`), r.properties)));
    expect(records()).toBe(0);
  });

  it("rejects pending calls when the host dies", async () => {
    const doomed = await startProviderHost({ cwd: repoRoot });
    try {
      await doomed.configure({ "harness:stateDir": stateDir, "harness:apiKey": API_KEY });
      const slow = doomed.create(resourceUrn("slow"), { label: "slow", __provider: text });
      await new Promise((resolve) => setTimeout(resolve, 500));
      process.kill(doomed.pid, "SIGKILL");
      await expect(slow).rejects.toThrow(/provider host exited/);
      await expect(doomed.check(resourceUrn("slow"), {}, { __provider: text })).rejects.toThrow(
        /exited/,
      );
    } finally {
      await doomed.close();
    }
  });
});

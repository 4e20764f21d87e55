import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { endpointFrom } from "../provider/core/connection/settings";
import type { ApiKeyInputs, Field } from "../provider/core/fields";
import {
  changedPlainInputs,
  plainInputNames,
  reportedInputs,
  reportedOf,
  requestedOf,
  sentFields,
  storedPlainOutputs,
} from "../provider/core/plain-fields";
import { asApiKey } from "../provider/octopus/answers";
import { OctopusClient } from "../provider/octopus/client";
import type { OctopusError } from "../provider/octopus/errors";

// A value Octopus keeps as given is one declaration: an input and an output naming the same
// Octopus field (`octopus`) are sent on create, kept in state, compared by diff, and reported
// back, with no other code. No such input ships today, so a declaration made here for the test
// (a `description`, as the contributing guide's example) drives the same functions the
// provider runs with the real one.

const INPUTS: Record<string, Field> = {
  purpose: { type: { kind: "string" }, required: true, description: "p" },
  description: {
    type: { kind: "string" },
    replaces: true,
    octopus: "Description",
    description: "d",
  },
};
const OUTPUTS: Record<string, Field> = {
  description: {
    type: { kind: "string" },
    nullable: true,
    octopus: "Description",
    description: "d",
  },
};
const inputs = (extra: Record<string, string> = {}) =>
  ({ purpose: "CI", ...extra }) as unknown as ApiKeyInputs;
const exchange = { method: "GET", path: "/api/x", where: "https://o/api/x", address: "a" } as const;

test("a plain input is sent under its Octopus name, kept as asked, and a change of it is seen", () => {
  expect(plainInputNames(INPUTS)).toEqual(["description"]);
  expect(sentFields(inputs({ description: "deploys" }), INPUTS)).toEqual({
    Description: "deploys",
  });
  expect(sentFields(inputs(), INPUTS)).toEqual({});
  expect(requestedOf(inputs({ description: "deploys" }), INPUTS)).toEqual({
    description: "deploys",
  });
  expect(requestedOf(inputs(), INPUTS)).toBeNull();
  const kept = { description: "deploys" };
  expect(changedPlainInputs(kept, inputs({ description: "deploys" }), INPUTS)).toEqual([]);
  expect(changedPlainInputs(kept, inputs({ description: "other" }), INPUTS)).toEqual([
    "description",
  ]);
  expect(changedPlainInputs(kept, inputs(), INPUTS)).toEqual(["description"]);
  // State from before the input existed: not given then, not given now, the same key.
  expect(changedPlainInputs(null, inputs(), INPUTS)).toEqual([]);
});

test("a plain output is what the key's answer reports, kept by the client as text", () => {
  const answer = { Id: "apikeys-1", Created: "2026-01-01T00:00:00Z", Description: "deploys" };
  const key = asApiKey(answer, exchange, {
    created: false,
    userId: "Users-1",
    keep: ["Description"],
  });
  expect(key.Reported).toEqual({ Description: "deploys" });
  expect(reportedOf(key, OUTPUTS)).toEqual({ description: "deploys" });
  expect(reportedInputs(key, INPUTS)).toEqual({ description: "deploys" });
  const silent = asApiKey({ ...answer, Description: null }, exchange, {
    created: false,
    userId: "Users-1",
    keep: ["Description"],
  });
  expect(reportedOf(silent, OUTPUTS)).toEqual({ description: null });
  expect(storedPlainOutputs({ description: "deploys" }, OUTPUTS)).toEqual({
    description: "deploys",
  });
  expect(storedPlainOutputs({}, OUTPUTS)).toEqual({ description: null });
  // Server text held to the rule every stored text is: no control characters.
  expect(() =>
    asApiKey({ ...answer, Description: "\u001b[2J" }, exchange, {
      created: false,
      userId: "Users-1",
      keep: ["Description"],
    }),
  ).toThrow(expect.objectContaining({ code: "BAD_RESPONSE" }) as OctopusError);
});

test("the client sends the named fields with a create, never in place of its own", async () => {
  let body: Record<string, unknown> = {};
  const server = http.createServer((req, res) => {
    let text = "";
    req
      .on("data", (chunk) => (text += chunk))
      .on("end", () => {
        body = JSON.parse(text) as Record<string, unknown>;
        res.writeHead(200, { "content-type": "application/json" }).end(
          JSON.stringify({
            Id: "apikeys-1",
            Purpose: body.Purpose,
            ApiKey: "API-PLAINFIELDSTEST0000001",
            Created: "2026-01-01T00:00:00Z",
            Description: body.Description,
          }),
        );
      });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const address = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const client = new OctopusClient(endpointFrom({ address, apiKey: "API-ABCDEFGH" }), {}, [
      "Description",
    ]);
    const key = await client.createApiKey("Users-1", {
      purpose: "CI",
      fields: { Description: "deploys", Purpose: "not this" },
    });
    expect(body).toEqual({ Purpose: "CI", UserId: "Users-1", Description: "deploys" });
    expect(key.Reported).toEqual({ Description: "deploys" });
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

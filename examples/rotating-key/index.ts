// A key that never lapses: it lives 90 days, and the first `pulumi up` in its last 30 days
// replaces it — the new key is created and handed to consumers before the old one is revoked.
// Run `pulumi up` from a scheduled CI job (weekly is plenty) and the key stays valid forever.
import * as pulumi from "@pulumi/pulumi";
import { OctopusApiKey } from "pulumi-octopus-apikey";

const config = new pulumi.Config();

const key = new OctopusApiKey("rotating", {
  purpose: "Nightly release automation",
  username: config.get("serviceAccount") ?? "ci-bot",
  expiresIn: "90d",
  rotateBefore: "30d",
  // Bump this value to rotate right away (for example after a suspected leak).
  rotationTriggers: { generation: config.get("generation") ?? "1" },
});

export const apiKeyId = key.apiKeyId;
export const hint = key.hint;
export const expires = key.expires;
export const rotateAt = key.rotateAt;
export const apiKey = key.apiKey; // secret

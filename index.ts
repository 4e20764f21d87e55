// The quickstart program (Pulumi.yaml): one API key for the service account "ci-bot", created by
// `pulumi up` and revoked by `pulumi destroy`. The server and the credentials that create the key
// come from stack config (octopusdeploy:address, octopusdeploy:apiKey) or from OCTOPUS_URL and
// OCTOPUS_API_KEY.
import * as pulumi from "@pulumi/pulumi";
import { OctopusApiKey } from "pulumi-octopus-apikey";

const config = new pulumi.Config();

const key = new OctopusApiKey("deployer", {
  purpose: config.get("purpose") ?? "CI deployments",
  username: config.get("username") ?? "ci-bot",
  expiresIn: "90d",
});

export const apiKeyId = key.apiKeyId;
export const owner = key.username;
export const hint = key.hint;
export const expires = key.expires;
/** The key itself: a secret (`pulumi stack output deployerKey --show-secrets` reveals it). */
export const deployerKey = key.apiKey;

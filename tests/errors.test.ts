import { withAdvice } from "../provider/core/advice";
import { ApiKeyLifecycle } from "../provider/core/lifecycle";
import { ERROR_CODES, OctopusError } from "../provider/octopus/errors";
import { registerSecret } from "../provider/octopus/redaction";

// Errors in one place: advice keeps what Octopus said, and nothing but an OctopusError (with a
// code from the one list, and no secret in its message) leaves the lifecycle.

test("advice keeps Octopus's reasons, help text, status and request, with the original as cause", () => {
  const original = new OctopusError("FORBIDDEN", "Octopus answered GET /api/users/me with 403", {
    status: 403,
    method: "GET",
    path: "/api/users/me",
    errors: ["Missing permission: UserView"],
    helpText: "Ask an administrator for the UserView permission.",
  });
  const advised = withAdvice(original, "use an account that has it");
  expect(advised.message).toBe(
    "Octopus answered GET /api/users/me with 403. Use an account that has it.",
  );
  expect(advised).toMatchObject({
    code: "FORBIDDEN",
    status: 403,
    method: "GET",
    path: "/api/users/me",
    errors: ["Missing permission: UserView"],
    helpText: "Ask an administrator for the UserView permission.",
  });
  expect(advised.cause).toBe(original);
});

test("an unexpected failure inside the lifecycle leaves it as an INTERNAL OctopusError, redacted", async () => {
  const secret = "API-INTERNALFAILURE0000001";
  registerSecret(secret);
  const lifecycle = new ApiKeyLifecycle(() => {
    throw new TypeError(`sources exploded near ${secret}`);
  });
  const error = await lifecycle.check({}, { purpose: "p" }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(OctopusError);
  expect((error as OctopusError).code).toBe("INTERNAL");
  expect((error as OctopusError).message).toBe("sources exploded near [redacted]");
  expect(Object.keys(ERROR_CODES)).toContain((error as OctopusError).code);
});

import type { ApiContext, Caller } from "../context";
import {
  MSG_UNAUTHENTICATED,
  forbidden,
  json,
  notFound,
  securityFail,
  type Reply,
} from "../replies";

/** `GET /api`: Octopus' root document, answered without authentication. */
export function rootRoute(ctx: ApiContext): Reply {
  const version = ctx.options.version ?? ctx.rules.version;
  const links: Record<string, string> = {
    Self: "/api",
    Authentication: "/api/authentication",
    CurrentUser: "/api/users/me",
    PermissionDescriptions: "/api/permissions/all",
    Register: "/api/users/register",
    RevokeUserSessions: "/api/users/{id}/revoke-sessions",
    ServerStatus: "/api/serverstatus",
    SignIn: "/api/users/login{?returnUrl}",
    SignOut: "/api/users/logout",
    SpaceHome: "/api/{spaceId}",
    Spaces: "/api/spaces{/id}{?skip,ids,take,partialName}",
    Teams: "/api/teams{/id}{?skip,take,ids,partialName,spaces,includeSystem}",
    UserAuthentication: "/api/users/authentication{/userId}",
    UserIdentityMetadata: "/api/users/identity-metadata",
    UserRoles: "/api/userroles{/id}{?skip,take,ids,partialName}",
    Users: "/api/users{/id}{?skip,take,ids,filter}",
    Web: "/app",
  };
  return json(200, {
    Application: "Octopus Deploy",
    Version: version,
    ApiVersion: "3.0.0",
    InstallationId: ctx.installationId,
    IsEarlyAccessProgram: false,
    HasLongTermSupport: false,
    Links: Object.fromEntries(Object.entries(links).map(([k, v]) => [k, ctx.link(v)])),
  });
}

/**
 * `GET /api/authentication`: the settings a client may check before creating a key (REST
 * reference `authentication.md`). Octopus answers it without authentication (its 2020.5 swagger
 * gives this route no security requirement, unlike the others; the sign-in page reads it), unless
 * `authenticationEndpoint` says otherwise: then `caller` (undefined when not authenticated) must
 * be let in. `UserApiKeysEnabled` exists from 2023.2 (`userApiKeysSetting`), the expiry settings
 * from 2025.4 (Octopus.Client's `AuthenticationConfigResource`: "Servers before 2025.4 do not
 * have this property").
 */
export function authenticationRoute(ctx: ApiContext, caller: Caller | undefined): Reply {
  const style = ctx.options.errorBodies ?? "errors";
  switch (ctx.options.authenticationEndpoint ?? "anonymous") {
    case "missing":
      return notFound();
    case "authenticated":
      if (!caller) return securityFail(style, 401, MSG_UNAUTHENTICATED);
      break;
    case "administrators":
      if (!caller) return securityFail(style, 401, MSG_UNAUTHENTICATED);
      if (!caller.user.isAdmin) return forbidden(style, "ConfigureServer");
      break;
    default:
      break;
  }
  const resource: Record<string, unknown> = {
    AnyAuthenticationProvidersSupportPasswordManagement: true,
    AuthenticationProviders: [],
    AutoLoginEnabled: false,
    RememberMeEnabled: false,
    Links: { Self: ctx.link("/api/authentication") },
  };
  if (ctx.options.userApiKeysSetting ?? true) {
    resource.UserApiKeysEnabled = ctx.settings.userApiKeysEnabled;
  }
  if (ctx.rules.expirySettings) {
    resource.ApiKeyDefaultExpiryDays = ctx.rules.defaultExpiryDays;
    resource.ApiKeyMaxExpiryDays = ctx.rules.maxExpiryDays;
  }
  return json(200, resource);
}

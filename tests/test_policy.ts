/**
 * The policy the whole-server tests run against: one organization per
 * migration step, with secrets passed through the environment as in
 * production.
 *
 * @module
 */

/** Secrets (≥ 32 bytes) handed to the server process. */
export const SECRETS = {
  ACME_JWT_SECRET: "acme-current-secret-0123456789abcdef0123",
  ACME_JWT_SECRET_PREV: "acme-previous-secret-0123456789abcdef012",
  ACME_ADMIN_KEY: "acme-admin-key-0123456789abcdef0123456789",
  GLOBEX_JWT_SECRET: "globex-secret-0123456789abcdef0123456789",
  GLOBEX_ADMIN_KEY: "globex-admin-key-0123456789abcdef01234567",
} as const;

/** Origins used by the tests. */
export const ORIGINS = {
  acme: "https://shop.acme.com",
  acmeApex: "https://acme.com",
  evil: "https://evil.example",
} as const;

/**
 * @param overrides Text spliced into the organizations (e.g. limits).
 * @returns The policy text.
 */
export function testPolicy(
  overrides: { acmeLimits?: string; serverExtra?: string } = {},
): string {
  return `version: 1
defaults:
  limits: { organization: 100/minute, ip: 20/minute }
server:
  trustProxy: 1
${overrides.serverExtra ?? ""}
organizations:
  acme:
    name: Acme Inc.
    appIds: [acme_web]
    domains:
      mode: enforce
      allow: [acme.com, "*.acme.com"]
    jwt:
      mode: optional
      keys:
        - id: "2026-11"
          secret: { env: ACME_JWT_SECRET }
        - id: "2026-08"
          secret: { env: ACME_JWT_SECRET_PREV }
    ${
    overrides.acmeLimits ??
      "limits: { organization: 1000/minute, ip: 1000/minute }"
  }
    widget: { title: Acme Support, greeting: "Hi! How can we help?", color: "#0b5fff" }
    admin:
      keys: [{ secret: { env: ACME_ADMIN_KEY } }]
  globex:
    domains: { mode: enforce, allow: [globex.example] }
    jwt:
      mode: required
      keys: [{ id: "g1", secret: { env: GLOBEX_JWT_SECRET } }]
    limits: { organization: 1000/minute, ip: 1000/minute }
    admin:
      keys: [{ secret: { env: GLOBEX_ADMIN_KEY } }]
  legacy:
    domains: { mode: "off" }
    limits: { organization: 1000/minute, ip: 1000/minute }
  trial:
    domains: { mode: report, allow: [trial.example] }
    limits: { organization: 1000/minute, ip: 1000/minute }
`;
}

/**
 * Claims of a valid `acme` user token issued for {@linkcode ORIGINS.acme}.
 *
 * @param overrides Claims to change or add.
 * @returns The claims, `iat` now and `exp` ten minutes on.
 */
export function acmeClaims(
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: ORIGINS.acme,
    aud: "chat-widget",
    sub: "user_42",
    iat: now,
    exp: now + 600,
    org_id: "acme",
    ...overrides,
  };
}

/**
 * Verifies the HS256 user tokens that websites mint for the widget (pipeline
 * step 6). The signature is checked with a synchronous HMAC on
 * `node:crypto`'s hashes (`hmac_sha256.ts`: Deno, Node and Bun have them;
 * WebCrypto's `verify` is an asynchronous operation whose thread hop costs a
 * loaded server more than the hash itself)
 * and every claim by hand, so each failure maps to one stable reason code.
 * Nothing here logs or returns a token, a signature or a secret.
 *
 * Issuer rule: `iss` must be a web origin that normalises (like the `Origin`
 * header: lower-case, punycode, default port dropped) to the request's origin.
 * `HTTPS://Acme.com` and `https://acme.com:443` equal `https://acme.com`; a
 * trailing slash, a path, a bare host, another port or another scheme do not.
 *
 * @module
 */

import { timingSafeEqual } from "node:crypto";
import { decodeBase64url } from "./base64url.ts";
import { type HmacSha256, hmacSha256 } from "./hmac_sha256.ts";
import { hasControlCharacter } from "./control_character.ts";
import { parseRequestOrigin } from "./domain_matcher.ts";
import { REASON } from "./reasons.ts";
import type { JwtKeySpec, OrganizationSpec, TraceStep } from "./types.ts";
import { AUDIENCE, isKeyActive } from "./user_token.ts";

/** Largest accepted compact token, characters. */
export const MAX_TOKEN_LENGTH = 8192;
/** Largest accepted `user_data`, bytes of its JSON. */
export const MAX_USER_DATA_BYTES = 4096;
/** Longest accepted `sub`, characters. */
export const MAX_SUBJECT_LENGTH = 256;
/** Most keys tried for a token without `kid`. */
export const MAX_KEYS_TRIED = 10;

/** Header parameters that point at keys elsewhere or change processing. */
const FORBIDDEN_HEADERS = ["crit", "jku", "x5u", "jwk", "x5c"] as const;

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** One HS256 key. */
export class UserTokenKey {
  /** The key id (`kid`). */
  readonly id: string;
  /** Epoch milliseconds after which the key is refused. */
  readonly until: number;
  readonly #mac: HmacSha256;

  /**
   * Wraps a validated key.
   *
   * @param spec The validated key.
   */
  constructor(spec: JwtKeySpec) {
    this.id = spec.id;
    this.until = spec.until ?? Infinity;
    this.#mac = hmacSha256(spec.secret);
    Object.freeze(this);
  }

  /**
   * Whether `signature` is this key's HMAC SHA-256 of `signed`, compared in
   * constant time.
   *
   * @param signed The token's `header.payload` bytes.
   * @param signature The decoded third segment.
   * @returns `true` when the signature is valid.
   */
  verifies(signed: Uint8Array, signature: Uint8Array): boolean {
    const expected = this.#mac(signed);
    return expected.length === signature.length &&
      timingSafeEqual(expected, signature);
  }
}

/** An organization's token keys and claim limits, compiled. Frozen. */
export interface UserTokenKeyring {
  /** Keys in policy order. */
  readonly keys: readonly UserTokenKey[];
  /** The first key of each id. */
  readonly byId: ReadonlyMap<string, UserTokenKey>;
  /** Longest accepted `exp − (iat ?? now)`, milliseconds. */
  readonly maxLifetimeMs: number;
  /** Allowed clock skew, milliseconds. */
  readonly clockToleranceMs: number;
}

/**
 * Compiles an organization's `jwt` section into a keyring.
 *
 * @param jwt The organization's validated `jwt` settings.
 * @returns A frozen keyring.
 */
export function createUserTokenKeyring(
  jwt: OrganizationSpec["jwt"],
): UserTokenKeyring {
  const keys = Object.freeze(jwt.keys.map((spec) => new UserTokenKey(spec)));
  const byId = new Map<string, UserTokenKey>();
  for (const key of keys) if (!byId.has(key.id)) byId.set(key.id, key);
  return Object.freeze({
    keys,
    byId,
    maxLifetimeMs: jwt.maxLifetimeMs,
    clockToleranceMs: jwt.clockToleranceMs,
  });
}

/** What the request says the token must match. */
export interface ExpectedClaims {
  /** The organization named by the request (`org_id`). */
  readonly organizationId: string;
  /** The request's normalised origin (`iss`); absent when it had none. */
  readonly origin?: string;
  /** `user_id` sent by the page; must equal `sub`. */
  readonly userId?: string;
  /** Clock, epoch milliseconds. */
  readonly now: number;
}

/** The outcome of verifying one token. */
export type UserTokenVerdict =
  | {
    readonly ok: true;
    readonly subject: string;
    readonly userData?: Readonly<Record<string, unknown>>;
    readonly keyId: string;
  }
  | { readonly ok: false; readonly reason: string };

function fail(reason: string): UserTokenVerdict {
  return { ok: false, reason };
}

function decodeJsonObject(
  segment: string,
): Record<string, unknown> | undefined {
  const bytes = decodeBase64url(segment);
  if (bytes === undefined || bytes.length === 0) return undefined;
  try {
    const value: unknown = JSON.parse(strictUtf8.decode(bytes));
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      return undefined;
    }
    return value as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  return Object.getPrototypeOf(value) === Object.prototype;
}

/**
 * Verifies a compact HS256 token against an organization's keyring and the
 * request's facts. Every failure is a reason code (`jwt.alg`,
 * `jwt.signature`, `jwt.expired`, …); a token is never half-trusted.
 *
 * @param token The compact JWS from `Authorization: Bearer`.
 * @param keyring The organization's compiled keys and limits.
 * @param expected What the claims must match.
 * @param trace When given, receives one step per check (explain mode).
 * @returns The verified subject and user data, or the reason it failed.
 */
export function verifyUserToken(
  token: string,
  keyring: UserTokenKeyring,
  expected: ExpectedClaims,
  trace?: TraceStep[],
): UserTokenVerdict {
  if (token.length > MAX_TOKEN_LENGTH) {
    trace?.push({
      check: "jwt.token",
      outcome: "fail",
      reason: REASON.jwtTooLarge,
      detail: `Token has ${token.length} characters, limit ${MAX_TOKEN_LENGTH}`,
    });
    return fail(REASON.jwtTooLarge);
  }
  const firstDot = token.indexOf(".");
  const secondDot = token.indexOf(".", firstDot + 1);
  const signature = firstDot === -1 || secondDot === -1
    ? undefined
    : decodeBase64url(token.slice(secondDot + 1));
  const header = signature === undefined
    ? undefined
    : decodeJsonObject(token.slice(0, firstDot));
  if (header === undefined || signature === undefined) {
    trace?.push({
      check: "jwt.token",
      outcome: "fail",
      reason: REASON.jwtMalformed,
      detail: "Expected three base64url segments and a JSON object header",
    });
    return fail(REASON.jwtMalformed);
  }

  if (header.alg !== "HS256") {
    trace?.push({
      check: "jwt.header",
      outcome: "fail",
      reason: REASON.jwtAlg,
      detail: `Header "alg" is ${
        typeof header.alg === "string"
          ? `"${header.alg.slice(0, 16)}"`
          : "missing"
      }, only "HS256" is accepted`,
    });
    return fail(REASON.jwtAlg);
  }
  for (const name of FORBIDDEN_HEADERS) {
    if (name in header) {
      trace?.push({
        check: "jwt.header",
        outcome: "fail",
        reason: REASON.jwtHeaderForbidden,
        detail: `Header "${name}" is refused and never fetched`,
      });
      return fail(REASON.jwtHeaderForbidden);
    }
  }
  trace?.push({
    check: "jwt.header",
    outcome: "pass",
    reason: REASON.jwtClaimOk,
  });

  // Pick candidate keys before touching the signature.
  let candidates: readonly UserTokenKey[];
  if ("kid" in header) {
    const key = typeof header.kid === "string"
      ? keyring.byId.get(header.kid)
      : undefined;
    if (key === undefined) {
      trace?.push({
        check: "jwt.key",
        outcome: "fail",
        reason: REASON.jwtKidUnknown,
        detail: 'No key of this organization has the token\'s "kid"',
      });
      return fail(REASON.jwtKidUnknown);
    }
    if (!isKeyActive(key, expected.now)) {
      trace?.push({
        check: "jwt.key",
        outcome: "fail",
        reason: REASON.jwtKeyExpired,
        detail: `Key "${key.id}" was retired at ${
          new Date(key.until).toISOString()
        }`,
      });
      return fail(REASON.jwtKeyExpired);
    }
    candidates = [key];
  } else {
    candidates = keyring.keys.filter((key) => isKeyActive(key, expected.now))
      .slice(0, MAX_KEYS_TRIED);
  }

  const signed = utf8.encode(token.slice(0, secondDot));
  let keyId: string | undefined;
  for (const key of candidates) {
    const valid = key.verifies(signed, signature);
    trace?.push({
      check: "jwt.key",
      outcome: valid ? "pass" : "fail",
      reason: valid ? REASON.jwtKeyTried : REASON.jwtSignature,
      detail: `Key "${key.id}" ${
        valid ? "verifies" : "does not verify"
      } the signature`,
    });
    if (valid) {
      keyId = key.id;
      break;
    }
  }
  if (keyId === undefined) {
    trace?.push({
      check: "jwt.signature",
      outcome: "fail",
      reason: REASON.jwtSignature,
      detail: `No key verified the signature (${candidates.length} tried)`,
    });
    return fail(REASON.jwtSignature);
  }

  const claims = decodeJsonObject(token.slice(firstDot + 1, secondDot));
  if (claims === undefined) {
    trace?.push({
      check: "jwt.payload",
      outcome: "fail",
      reason: REASON.jwtMalformed,
      detail: "Payload is not a JSON object",
    });
    return fail(REASON.jwtMalformed);
  }
  const reason = checkClaims(claims, keyring, expected, trace);
  if (reason !== undefined) return fail(reason);

  const userData = claims.user_data as Record<string, unknown> | undefined;
  return userData === undefined
    ? { ok: true, subject: claims.sub as string, keyId }
    : { ok: true, subject: claims.sub as string, userData, keyId };
}

/** Checks the registered and Parley claims; returns the first failure. */
function checkClaims(
  claims: Record<string, unknown>,
  keyring: UserTokenKeyring,
  expected: ExpectedClaims,
  trace: TraceStep[] | undefined,
): string | undefined {
  const { now } = expected;
  const tolerance = keyring.clockToleranceMs;
  const step = (check: string, reason: string | undefined, detail: string) => {
    trace?.push({
      check: `jwt.claim.${check}`,
      outcome: reason === undefined ? "pass" : "fail",
      reason: reason ?? REASON.jwtClaimOk,
      detail,
    });
    return reason;
  };

  const exp = claims.exp;
  if (exp === undefined) {
    return step("exp", REASON.jwtExpMissing, 'Claim "exp" is required');
  }
  if (typeof exp !== "number" || !Number.isFinite(exp)) {
    return step("exp", REASON.jwtExpInvalid, 'Claim "exp" is not a number');
  }
  const expMs = exp * 1000;
  if (expMs <= now - tolerance) {
    return step("exp", REASON.jwtExpired, "Token has expired");
  }
  if (trace) step("exp", undefined, "Token has not expired");

  const iat = claims.iat;
  if (iat !== undefined && (typeof iat !== "number" || !Number.isFinite(iat))) {
    return step("iat", REASON.jwtIatInvalid, 'Claim "iat" is not a number');
  }
  if (iat !== undefined && iat * 1000 > now + tolerance) {
    return step("iat", REASON.jwtIatFuture, 'Claim "iat" is in the future');
  }
  const nbf = claims.nbf;
  if (nbf !== undefined && (typeof nbf !== "number" || !Number.isFinite(nbf))) {
    return step("nbf", REASON.jwtNbfInvalid, 'Claim "nbf" is not a number');
  }
  if (nbf !== undefined && nbf * 1000 > now + tolerance) {
    return step("nbf", REASON.jwtNbfFuture, 'Claim "nbf" is in the future');
  }

  // Without `iat` the lifetime counts from our clock, which may lag the
  // minter's by up to the tolerance.
  const lifetime = iat === undefined ? expMs - now : expMs - iat * 1000;
  const cap = keyring.maxLifetimeMs + (iat === undefined ? tolerance : 0);
  if (lifetime > cap) {
    return step(
      "lifetime",
      REASON.jwtLifetime,
      `Token lives longer than ${keyring.maxLifetimeMs / 1000}s`,
    );
  }
  if (trace) step("lifetime", undefined, "Lifetime within the maximum");

  const aud = claims.aud;
  if (
    aud !== AUDIENCE && !(Array.isArray(aud) && aud.includes(AUDIENCE))
  ) {
    return step("aud", REASON.jwtAud, `Claim "aud" must be "${AUDIENCE}"`);
  }
  if (trace) step("aud", undefined, `Audience is "${AUDIENCE}"`);

  const iss = claims.iss;
  const issuer = typeof iss === "string"
    ? parseRequestOrigin(iss)?.origin
    : undefined;
  if (expected.origin === undefined || issuer !== expected.origin) {
    return step(
      "iss",
      REASON.jwtIss,
      expected.origin === undefined
        ? 'Request has no origin to match "iss"'
        : `Claim "iss" must be the origin "${expected.origin}"`,
    );
  }
  if (trace) step("iss", undefined, `Issuer is "${expected.origin}"`);

  if (claims.org_id !== expected.organizationId) {
    return step(
      "org_id",
      REASON.jwtOrgId,
      `Claim "org_id" must be "${expected.organizationId}"`,
    );
  }
  if (trace) step("org_id", undefined, "Organization matches");

  const sub = claims.sub;
  if (
    typeof sub !== "string" || sub.length === 0 ||
    sub.length > MAX_SUBJECT_LENGTH || hasControlCharacter(sub)
  ) {
    return step(
      "sub",
      REASON.jwtSub,
      `Claim "sub" must be a string of 1 to ${MAX_SUBJECT_LENGTH} characters, none a control character`,
    );
  }
  if (trace) step("sub", undefined, "Subject present");

  const userData = claims.user_data;
  if (
    userData !== undefined &&
    (!isPlainObject(userData) ||
      utf8.encode(JSON.stringify(userData)).length > MAX_USER_DATA_BYTES)
  ) {
    return step(
      "user_data",
      REASON.jwtUserData,
      `Claim "user_data" must be an object of at most ${MAX_USER_DATA_BYTES} bytes`,
    );
  }
  if (trace) step("user_data", undefined, "User data acceptable");

  if (expected.userId !== undefined && expected.userId !== sub) {
    return step(
      "user_id",
      REASON.jwtUserIdMismatch,
      'The page\'s "user_id" differs from the token\'s "sub"',
    );
  }
  return undefined;
}

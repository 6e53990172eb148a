/**
 * The stable reason codes of policy decisions, in one place. They appear in
 * `Decision.reason`, in explain traces, in the decision log and in the wire's
 * `error.reason`; tests assert them, so they never change meaning.
 *
 * @module
 */

/** Every reason code a decision, verdict or trace step can carry. */
export const REASON = {
  // Step 4: organization and app id.
  organizationFound: "organization.found",
  organizationUnknown: "organization.unknown",
  appIdAllowed: "organization.app_id_allowed",
  appIdAny: "organization.app_id_any",
  appIdUnknown: "organization.app_id_unknown",

  // Step 5: domains.
  domainOff: "domain.off",
  domainExact: "domain.exact",
  domainWildcard: "domain.wildcard",
  domainTestingMethod: "domain.testing_method",
  domainOriginMissing: "domain.origin_missing",
  domainOriginInvalid: "domain.origin_invalid",
  domainNotAllowed: "domain.not_allowed",

  // Step 6: user tokens.
  jwtOff: "jwt.off",
  jwtAbsent: "jwt.absent",
  jwtRequired: "jwt.required",
  jwtTestingMethod: "jwt.testing_method",
  jwtVerified: "jwt.verified",
  jwtTooLarge: "jwt.too_large",
  jwtMalformed: "jwt.malformed",
  jwtAlg: "jwt.alg",
  jwtHeaderForbidden: "jwt.header_forbidden",
  jwtKidUnknown: "jwt.kid_unknown",
  jwtKeyExpired: "jwt.key_expired",
  jwtKeyTried: "jwt.key_tried",
  jwtSignature: "jwt.signature",
  jwtExpMissing: "jwt.exp_missing",
  jwtExpInvalid: "jwt.exp_invalid",
  jwtExpired: "jwt.expired",
  jwtIatInvalid: "jwt.iat_invalid",
  jwtIatFuture: "jwt.iat_future",
  jwtNbfInvalid: "jwt.nbf_invalid",
  jwtNbfFuture: "jwt.nbf_future",
  jwtLifetime: "jwt.lifetime",
  jwtAud: "jwt.aud",
  jwtIss: "jwt.iss",
  jwtOrgId: "jwt.org_id",
  jwtSub: "jwt.sub",
  jwtUserData: "jwt.user_data",
  jwtUserIdMismatch: "jwt.user_id_mismatch",
  /** A claim check passed (trace steps only). */
  jwtClaimOk: "jwt.claim_ok",
} as const;

Object.freeze(REASON);

/** A stable reason code. */
export type Reason = typeof REASON[keyof typeof REASON];

/** The RPC methods that answer callers without `Origin` or token (curl probes). */
export const TESTING_METHODS: ReadonlySet<string> = Object.freeze(
  new Set(["chat.getConfig", "chat.getJWTDocs"]),
);

/**
 * An organization's `jwt` section beyond its schema: key ids unique, each
 * key's secret resolved, `until` read (and warned about once it has passed,
 * by the rule of `user_token.ts`), and a mode that needs keys given some.
 *
 * @module
 */

import { parseDuration, parseIsoTime } from "./rate.ts";
import { clip, type DocumentPath, formatPath } from "./problems.ts";
import { resolveSecret } from "./secret_reference.ts";
import type { JwtKeySpec, OrganizationSpec, PolicySpec } from "./types.ts";
import { isKeyActive } from "./user_token.ts";
import type {
  RuleContext,
  WrittenJwtTimes,
  WrittenOrganization,
} from "./written_policy.ts";

/**
 * `maxLifetime` and `clockTolerance` in milliseconds, each falling back.
 *
 * @param jwt The section as written.
 * @param fallback The times it inherits.
 * @returns The times.
 */
export function readJwtTimes(
  jwt: WrittenJwtTimes | undefined,
  fallback: PolicySpec["defaults"]["jwt"],
): PolicySpec["defaults"]["jwt"] {
  const ms = (text: string | undefined, otherwise: number) =>
    text === undefined ? otherwise : parseDuration(text) ?? otherwise;
  return {
    maxLifetimeMs: ms(jwt?.maxLifetime, fallback.maxLifetimeMs),
    clockToleranceMs: ms(jwt?.clockTolerance, fallback.clockToleranceMs),
  };
}

/**
 * Reads an organization's `jwt` section.
 *
 * @param jwt The section as written and checked by the schema.
 * @param path Its path.
 * @param defaults The times it inherits.
 * @param context The document, problems, environment and clock.
 * @returns The mode, keys and times.
 */
export function readJwt(
  jwt: WrittenOrganization["jwt"],
  path: DocumentPath,
  defaults: PolicySpec["defaults"]["jwt"],
  context: RuleContext,
): OrganizationSpec["jwt"] {
  const { document, problems, now } = context;
  const mode = jwt?.mode ?? "off";
  const keys: JwtKeySpec[] = [];
  const ids = new Set<string>();
  jwt?.keys?.forEach((key, index) => {
    if (key === undefined) return;
    const keyPath = [...path, "keys", index];
    const idPath = [...keyPath, "id"];
    const id = key.id === undefined ? undefined : String(key.id);
    if (id !== undefined) {
      if (ids.has(id)) {
        problems.error(
          "duplicate-key-id",
          idPath,
          document.at(idPath),
          `JWT key id "${clip(id)}" is used twice`,
          "Give every key its own id",
        );
      }
      ids.add(id);
    }
    const label = id === undefined
      ? `JWT key at "${formatPath(keyPath)}"`
      : `JWT key "${clip(id)}"`;
    const secret = resolveSecret(
      key.secret,
      [...keyPath, "secret"],
      label,
      context,
    );
    const until = key.until === undefined ? undefined : parseIsoTime(key.until);
    if (until !== undefined && !isKeyActive({ until }, now)) {
      problems.warning(
        "until-past",
        [...keyPath, "until"],
        document.at([...keyPath, "until"]),
        `${label} expired on ${new Date(until).toISOString()}`,
        "Remove the key once no token signed with it is in use",
      );
    }
    if (id === undefined || secret === undefined) return;
    keys.push({
      id,
      secret: new TextEncoder().encode(secret),
      ...(until === undefined ? {} : { until }),
    });
  });
  if (mode !== "off" && (jwt?.keys?.length ?? 0) === 0) {
    const keysPath = [...path, "keys"];
    const at = document.keyAt(
      document.written(keysPath)
        ? keysPath
        : document.written([...path, "mode"])
        ? [...path, "mode"]
        : path,
    );
    if (mode === "required") {
      problems.error(
        "jwt-required-without-keys",
        keysPath,
        at,
        `JWT mode "required" needs at least one key`,
        "Add keys: [{ id: ..., secret: { env: NAME } }], or use mode: optional",
      );
    } else {
      problems.warning(
        "jwt-optional-without-keys",
        keysPath,
        at,
        `JWT mode "optional" with no keys rejects every token sent`,
        "Add keys: [{ id: ..., secret: { env: NAME } }]",
      );
    }
  }
  return {
    mode,
    keys,
    ...readJwtTimes(jwt, defaults),
  };
}

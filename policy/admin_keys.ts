/**
 * An organization's admin keys (`admin.keys`, one per agent) beyond their
 * schema: an id for every key (`key-<n>` when none is written), ids unique,
 * secrets resolved, and a warning when two agents share a secret (they could
 * not be told apart).
 *
 * @module
 */

import { schemaAt } from "./policy_schema.ts";
import { clip, type DocumentPath } from "./problems.ts";
import { resolveSecret } from "./secret_reference.ts";
import type { AdminKeySpec } from "./types.ts";
import type { RuleContext, WrittenOrganization } from "./written_policy.ts";

const MAX_ADMIN_KEYS = schemaAt(
  "#/$defs/organization/properties/admin/properties/keys",
).maxItems ?? Infinity;

/**
 * Reads an organization's admin keys.
 *
 * @param admin The `admin` section as written and checked by the schema.
 * @param path Its path.
 * @param organizationName The name a key without one is shown with.
 * @param context The document, problems and environment.
 * @returns The keys that can be used.
 */
export function readAdminKeys(
  admin: WrittenOrganization["admin"],
  path: DocumentPath,
  organizationName: string,
  context: RuleContext,
): readonly AdminKeySpec[] {
  const { document, problems } = context;
  const keys: AdminKeySpec[] = [];
  // Over the cap the schema reports (too-many-admin-keys), none is read.
  if ((admin?.keys?.length ?? 0) > MAX_ADMIN_KEYS) return keys;
  const ids = new Set<string>();
  const secrets = new Map<string, string>();
  admin?.keys?.forEach((key, index) => {
    if (key === undefined) return;
    const keyPath = [...path, "keys", index];
    const idPath = [...keyPath, "id"];
    // An id written but found wrong is no id at all.
    const written = key.id !== undefined || document.written(idPath);
    const id = key.id !== undefined
      ? String(key.id)
      : written
      ? undefined
      : `key-${index + 1}`;
    if (id !== undefined) {
      if (ids.has(id)) {
        problems.error(
          "duplicate-key-id",
          idPath,
          document.at(written ? idPath : keyPath),
          `Admin key id "${clip(id)}" is used twice`,
          written
            ? "Give every key its own id"
            : `A key without "id" is "key-${
              index + 1
            }"; give this one or the other an id of its own`,
        );
      }
      ids.add(id);
    }
    const label = id === undefined
      ? `admin key ${index + 1}`
      : `admin key "${clip(id)}"`;
    const secretPath = [...keyPath, "secret"];
    const secret = resolveSecret(key.secret, secretPath, label, context);
    if (secret === undefined || id === undefined) return;
    const sameAs = secrets.get(secret);
    if (sameAs !== undefined) {
      problems.warning(
        "duplicate-admin-secret",
        secretPath,
        document.at(secretPath),
        `Admin keys "${clip(sameAs)}" and "${
          clip(id)
        }" have the same secret, so both sign in as "${clip(sameAs)}"`,
        "Give every agent a secret of their own",
      );
    } else secrets.set(secret, id);
    keys.push(
      { id, name: key.name ?? organizationName, secret },
    );
  });
  return keys;
}

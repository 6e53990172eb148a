import { deepStrictEqual as deepEqual } from "node:assert/strict";
import { compileSpec } from "../../policy/compile.ts";
import {
  testingOrganization,
  testingPolicy,
  testingSecret,
} from "../../policy/testing_spec.ts";
import type { MethodContext } from "../method.ts";
import { getJwtDocs } from "./get_jwt_docs.ts";

const UNTIL = Date.parse("2026-12-15T00:00:00Z");
const evaluator = compileSpec(testingPolicy([
  testingOrganization("acme", {
    jwtMode: "required",
    keys: [
      { id: "2026-08", secret: testingSecret("old"), until: UNTIL },
      { id: "2026-11", secret: testingSecret("new") },
    ],
  }),
]));

/** The key ids chat.getJWTDocs lists at `now`. */
async function keyIds(now: number): Promise<string[]> {
  // getJWTDocs reads the organization and the clock, nothing else.
  const context = {
    organization: evaluator.organization("acme")!,
    now,
  } as MethodContext;
  const docs = await getJwtDocs.run(context);
  return docs.keys.map((key) => key.id);
}

Deno.test("chat.getJWTDocs lists a retiring key through its until instant, as the verifier accepts it, and not after", async () => {
  deepEqual(await keyIds(UNTIL), ["2026-08", "2026-11"]);
  deepEqual(await keyIds(UNTIL + 1), ["2026-11"]);
});

import assert from "node:assert/strict";
import { isVisitorId } from "../chat/participant.ts";
import { randomId } from "../chat/random_id.ts";
import { VisitorReferences } from "./visitor_reference.ts";

const SECRET = new TextEncoder().encode("reference-secret-0123456789abcdef01");
/** A visitor id as `ChatStore.newVisitorId()` issues one. */
const newVisitorId = () => randomId(18);

Deno.test("VisitorReferences.of() is stable per visitor, distinct between visitors and secrets, and never a visitorId", () => {
  const references = new VisitorReferences(SECRET);
  const ada = newVisitorId();
  const grace = newVisitorId();
  const reference = references.of(ada);
  assert.match(reference, /^v\.[A-Za-z0-9_-]{22}$/);
  assert.equal(new VisitorReferences(SECRET).of(ada), reference, "stable");
  assert.notEqual(references.of(grace), reference);
  assert.notEqual(
    new VisitorReferences(
      new TextEncoder().encode("another-secret-0123456789abcdef0123"),
    ).of(ada),
    reference,
  );
  assert.ok(!reference.includes(ada));
  assert.equal(isVisitorId(reference), false, "chat.boot would take it");
});

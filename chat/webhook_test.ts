import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { signWebhook, verifyWebhookSignature } from "./webhook.ts";

const SECRET = "whsec_0123456789abcdef0123456789abcdef";

Deno.test("signWebhook() signs t.body with HMAC-SHA256, Stripe-style", async () => {
  const body = '{"hello":"world"}';
  const expected = createHmac("sha256", SECRET)
    .update(`1767225600.${body}`)
    .digest("hex");
  assert.equal(
    await signWebhook(SECRET, body, 1_767_225_600),
    `t=1767225600,v1=${expected}`,
  );
});

Deno.test("verifyWebhookSignature() accepts an authentic, fresh request", async () => {
  const body = '{"id":"x"}';
  const now = 1_767_225_600_000;
  const header = await signWebhook(SECRET, body, now / 1000);
  assert.equal(
    await verifyWebhookSignature(SECRET, header, body, { now }),
    true,
  );
  // During a secret rotation a sender may add a second v1 entry.
  const other = await signWebhook(
    "another-secret-of-enough-length!!",
    body,
    now / 1000,
  );
  const rotated = `${header},v1=${other.split("v1=")[1]}`;
  assert.equal(
    await verifyWebhookSignature(SECRET, rotated, body, { now }),
    true,
  );
});

const forgeries: [string, (header: string) => string, string, number][] = [
  ["a tampered body", (header) => header, '{"id":"y"}', 0],
  ["a wrong secret", () => "", '{"id":"x"}', 0],
  ["a replay outside the tolerance", (header) => header, '{"id":"x"}', 301],
  ["a timestamp from the future", (header) => header, '{"id":"x"}', -301],
  ["a missing v1", (header) => header.split(",")[0] ?? "", '{"id":"x"}', 0],
  ["a malformed header", () => "garbage", '{"id":"x"}', 0],
  [
    "a moved timestamp",
    (header) => header.replace(/t=\d+/, "t=1767225601"),
    '{"id":"x"}',
    0,
  ],
];
for (const [attack, forge, body, skewSec] of forgeries) {
  Deno.test(`verifyWebhookSignature() rejects ${attack}`, async () => {
    const now = 1_767_225_600_000;
    const genuine = await signWebhook(SECRET, '{"id":"x"}', now / 1000);
    const header = attack === "a wrong secret"
      ? await signWebhook(
        "not-the-secret-but-just-as-long!!!",
        body,
        now / 1000,
      )
      : forge(genuine);
    assert.equal(
      await verifyWebhookSignature(SECRET, header, body, {
        now: now + skewSec * 1000,
      }),
      false,
    );
  });
}

Deno.test("verifyWebhookSignature() rejects a missing header", async () => {
  assert.equal(await verifyWebhookSignature(SECRET, null, "{}"), false);
});

/**
 * Clients that go away mid-body, on the real server: each is a
 * `400 BAD_REQUEST` with reason `body.aborted` in the decision log and the
 * metrics, never an INTERNAL bug with a stack trace on stderr.
 *
 * @module
 */

import assert from "node:assert/strict";
import net from "node:net";
import { startServer, waitFor } from "./server_process.ts";
import { ORIGINS, SECRETS, testPolicy } from "./test_policy.ts";

const CLIENTS = 50;
/** Long enough for the server to have read the head before the client leaves. */
const LEAVE_AFTER_MS = 200;

/** One way of sending half a body: its framing and how the client leaves. */
interface Variant {
  readonly name: string;
  /** Headers and the half of the body that is sent. */
  readonly head: string;
  readonly halfBody: string;
  /** A FIN (`close`) or a RST (`reset`). */
  readonly leave: "close" | "reset";
}

const BODY = JSON.stringify({ organizationId: "acme", text: "x".repeat(200) });
const HALF = BODY.slice(0, BODY.length / 2);
const chunk = (text: string) =>
  `${new TextEncoder().encode(text).length.toString(16)}\r\n${text}\r\n`;

const VARIANTS: readonly Variant[] = [
  {
    name: "a Content-Length larger than what is sent, then a close",
    head: `Content-Length: ${BODY.length}\r\n`,
    halfBody: HALF,
    leave: "close",
  },
  {
    name: "a Content-Length larger than what is sent, then a reset",
    head: `Content-Length: ${BODY.length}\r\n`,
    halfBody: HALF,
    leave: "reset",
  },
  {
    name: "chunked, without the last chunk, then a close",
    head: "Transfer-Encoding: chunked\r\n",
    halfBody: chunk(HALF),
    leave: "close",
  },
  {
    name: "chunked, without the last chunk, then a reset",
    head: "Transfer-Encoding: chunked\r\n",
    halfBody: chunk(HALF),
    leave: "reset",
  },
];

/** Sends the head and half the body of `chat.getConfig`, then leaves. */
function sendHalfAndLeave(port: number, variant: Variant): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port }, () => {
      socket.write(
        "POST /rpc/chat.getConfig HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
          `Origin: ${ORIGINS.acme}\r\nContent-Type: application/json\r\n` +
          `${variant.head}\r\n${variant.halfBody}`,
      );
      setTimeout(() => {
        if (variant.leave === "reset") socket.resetAndDestroy();
        else socket.destroy();
        resolve();
      }, LEAVE_AFTER_MS);
    });
    socket.on("error", reject);
  });
}

Deno.test("clients that leave mid-body are 400 body.aborted: no INTERNAL in metrics or the decision log, no stack trace", async (t) => {
  await using server = await startServer({
    policy: testPolicy(),
    env: SECRETS,
  });
  const quietStderr = server.stderr();
  let expected = 0;
  for (const variant of VARIANTS) {
    await t.step(`${CLIENTS} clients: ${variant.name}`, async () => {
      await Promise.all(
        Array.from(
          { length: CLIENTS },
          () => sendHalfAndLeave(server.port, variant),
        ),
      );
      expected += CLIENTS;
      // Every client was seen: the test cannot pass vacuously.
      await waitFor(async () => (await server.decisions()).length >= expected);
      const decisions = await server.decisions();
      assert.equal(decisions.length, expected);
      for (const entry of decisions) {
        assert.equal(entry.code, "BAD_REQUEST");
        assert.equal(entry.reason, "body.aborted");
        assert.equal(entry.outcome, "rejected");
        assert.equal(entry.method, "chat.getConfig");
      }
    });
  }

  const metrics = await (await fetch(`${server.baseUrl}/metrics`)).text();
  assert.doesNotMatch(metrics, /code="INTERNAL"/);
  assert.match(
    metrics,
    new RegExp(
      `parley_decisions_total\\{organization="_unknown",outcome="rejected",code="BAD_REQUEST"\\} ${expected}\\n`,
    ),
  );
  assert.equal(
    server.stderr(),
    quietStderr,
    "the server wrote to stderr about clients that left",
  );

  const config = await server.rpc("chat.getConfig", {
    organizationId: "acme",
  }, { origin: ORIGINS.acme });
  assert.equal(config.status, 200);
  assert.equal(config.body.ok, true);
});

import assert from "node:assert/strict";
import { postPinned } from "./pinned_post.ts";

const TLS = new URL("./testdata/webhook_tls/", import.meta.url);
/** A CA and a certificate for `hooks.parley.test` it signed (test data only). */
const CA = await Deno.readTextFile(new URL("ca.pem", TLS));
const CERT = await Deno.readTextFile(new URL("cert.pem", TLS));
const KEY = await Deno.readTextFile(new URL("key.pem", TLS));

interface Seen {
  host: string | null;
  body: string;
  signature: string | null;
}

function receiver(
  tls: boolean,
): { port: number; seen: Seen[] } & AsyncDisposable {
  const seen: Seen[] = [];
  const server = Deno.serve(
    {
      port: 0,
      hostname: "127.0.0.1",
      onListen() {},
      ...(tls ? { cert: CERT, key: KEY } : {}),
    },
    async (request) => {
      seen.push({
        host: request.headers.get("host"),
        body: await request.text(),
        signature: request.headers.get("parley-signature"),
      });
      return new Response("a body nobody reads", { status: 202 });
    },
  );
  return {
    port: server.addr.port,
    seen,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

Deno.test("postPinned() posts to the given address with the URL's host in Host", async () => {
  await using site = receiver(false);
  const status = await postPinned(
    new URL(`http://hooks.parley.test:${site.port}/hooks/parley?x=1`),
    {
      addresses: ["127.0.0.1"],
      headers: { "Parley-Signature": "t=1,v1=ab" },
      body: '{"hello":"wörld"}',
      signal: AbortSignal.timeout(5_000),
    },
  );
  assert.equal(status, 202);
  assert.deepEqual(site.seen, [{
    host: `hooks.parley.test:${site.port}`,
    body: '{"hello":"wörld"}',
    signature: "t=1,v1=ab",
  }]);
});

Deno.test("postPinned() speaks TLS to the address with the URL's name for SNI and the certificate check", async () => {
  await using site = receiver(true);
  const post = (host: string) =>
    postPinned(new URL(`https://${host}:${site.port}/hook`), {
      addresses: ["127.0.0.1"],
      headers: {},
      body: "{}",
      signal: AbortSignal.timeout(5_000),
      caCerts: [CA],
    });
  assert.equal(await post("hooks.parley.test"), 202);
  // The address is fixed, the name is still checked: another name's
  // certificate, or none from a trusted CA, is refused.
  await assert.rejects(post("other.parley.test"), /certificate/i);
  await assert.rejects(
    postPinned(new URL(`https://hooks.parley.test:${site.port}/hook`), {
      addresses: ["127.0.0.1"],
      headers: {},
      body: "{}",
      signal: AbortSignal.timeout(5_000),
    }),
    /certificate/i,
  );
  assert.equal(site.seen.length, 1);
});

/** A raw TCP server answering every connection with `reply` (or nothing). */
function rawServer(
  reply: string | undefined,
): { port: number } & AsyncDisposable {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const served = (async () => {
    for await (const conn of listener) {
      conns.push(conn);
      if (reply !== undefined) {
        await conn.read(new Uint8Array(65_536));
        await conn.write(new TextEncoder().encode(reply));
      }
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    async [Symbol.asyncDispose]() {
      listener.close();
      for (const conn of conns) {
        try {
          conn.close();
        } catch {
          // Closed by the client.
        }
      }
      await served;
    },
  };
}

Deno.test("postPinned() skips informational replies and reads only the status line", async () => {
  await using site = rawServer(
    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 204 No Content\r\n" +
      "X-Padding: " + "x".repeat(20_000),
  );
  const status = await postPinned(new URL(`http://127.0.0.1:${site.port}/`), {
    addresses: ["127.0.0.1"],
    headers: {},
    body: "{}",
    signal: AbortSignal.timeout(5_000),
  });
  assert.equal(status, 204);
});

Deno.test("postPinned() refuses a reply that is not HTTP/1.1", async () => {
  await using site = rawServer("SSH-2.0-OpenSSH_9.6\r\n");
  await assert.rejects(
    postPinned(new URL(`http://127.0.0.1:${site.port}/`), {
      addresses: ["127.0.0.1"],
      headers: {},
      body: "{}",
      signal: AbortSignal.timeout(5_000),
    }),
    /not HTTP/,
  );
});

Deno.test("postPinned() gives up on a receiver that never answers when the signal aborts", async () => {
  await using site = rawServer(undefined);
  const started = performance.now();
  await assert.rejects(
    postPinned(new URL(`http://127.0.0.1:${site.port}/`), {
      addresses: ["127.0.0.1"],
      headers: {},
      body: "{}",
      signal: AbortSignal.timeout(200),
    }),
    (error: unknown) => error instanceof DOMException,
  );
  assert.ok(performance.now() - started < 2_000);
});

Deno.test("postPinned() refuses a header that would split the request", async () => {
  await assert.rejects(
    postPinned(new URL("http://127.0.0.1:9/"), {
      addresses: ["127.0.0.1"],
      headers: { "X-Evil": "a\r\nHost: elsewhere" },
      body: "{}",
      signal: AbortSignal.timeout(1_000),
    }),
    TypeError,
  );
});

Deno.test("postPinned() tries the next address when one refuses the connection", async () => {
  await using site = receiver(false);
  const status = await postPinned(
    new URL(`http://hooks.parley.test:${site.port}/`),
    {
      // 127.0.0.2 has nothing listening on the receiver's port.
      addresses: ["127.0.0.2", "127.0.0.1"],
      headers: {},
      body: "{}",
      signal: AbortSignal.timeout(5_000),
    },
  );
  assert.equal(status, 202);
});

/**
 * One HTTP/1.1 `POST` over a connection to an address chosen beforehand:
 * the webhook dispatcher resolves a receiver's name, checks every address
 * (`policy/network_address.ts`), and then connects to the address it checked.
 *
 * Why not `fetch`: it resolves the name again when it connects, so a name
 * whose DNS answer changes between the check and the connection (DNS
 * rebinding) could still reach a private address; and its one way to fix the
 * address (`Deno.createHttpClient`'s `tcp` proxy) speaks plain HTTP to an
 * `https:` URL. Here the TCP connection goes to the checked address, and TLS
 * runs over it with the URL's host name for SNI and certificate checks.
 *
 * Only what a webhook needs: a `POST` with a body, `Connection: close`, the
 * status line read and the rest of the reply ignored (a receiver's body is
 * never read; a redirect is a non-2xx status like any other).
 *
 * @module
 */

/** Options of {@linkcode postPinned}. */
export interface PinnedPostOptions {
  /**
   * The IP addresses to connect to (IPv6 without brackets), tried in order
   * until one accepts the connection.
   */
  readonly addresses: readonly string[];
  /** Request headers; `Host`, `Content-Length` and `Connection` are set here. */
  readonly headers: Readonly<Record<string, string>>;
  /** The request body. */
  readonly body: string;
  /** Aborts the connection, the request and the wait for the reply. */
  readonly signal: AbortSignal;
  /** Extra root certificates (PEM), e.g. a test CA. */
  readonly caCerts?: readonly string[];
}

/** Longest status line (and informational replies before it) read, bytes. */
const MAX_HEAD_BYTES = 8_192;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * POSTs `body` to `url` over a connection to one of `options.addresses`.
 *
 * @param url An `http:` or `https:` URL; its host names the TLS server and the `Host` header.
 * @param options The address, headers, body and abort signal.
 * @returns The reply's status code.
 * @throws {Error} When the connection, TLS or the reply fails, or `signal` aborts.
 *
 * @example Post to the address a name was checked to have
 * ```ts ignore
 * const status = await postPinned(new URL("https://hooks.acme.com/parley"), {
 *   addresses: ["203.0.113.7"],
 *   headers: { "Content-Type": "application/json" },
 *   body: "{}",
 *   signal: AbortSignal.timeout(5_000),
 * });
 * ```
 */
export async function postPinned(
  url: URL,
  options: PinnedPostOptions,
): Promise<number> {
  const { signal } = options;
  signal.throwIfAborted();
  const https = url.protocol === "https:";
  const port = url.port === "" ? (https ? 443 : 80) : Number(url.port);
  const bytes = request(url, options);
  const tcp = await connectToOne(options.addresses, port, signal);
  let conn: Deno.Conn = tcp;
  const abort = () => {
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  };
  signal.addEventListener("abort", abort, { once: true });
  try {
    if (https) {
      conn = await Deno.startTls(tcp, {
        hostname: url.hostname.replace(/^\[|\]$/g, ""),
        ...(options.caCerts === undefined
          ? {}
          : { caCerts: [...options.caCerts] }),
      });
    }
    signal.throwIfAborted();
    await writeAll(conn, bytes);
    return await readStatus(conn);
  } catch (error) {
    signal.throwIfAborted();
    throw error;
  } finally {
    signal.removeEventListener("abort", abort);
    abort();
  }
}

async function connectToOne(
  addresses: readonly string[],
  port: number,
  signal: AbortSignal,
): Promise<Deno.TcpConn> {
  let failure: unknown = new Error("No address to connect to");
  for (const hostname of addresses) {
    try {
      return await Deno.connect({ hostname, port, signal });
    } catch (error) {
      signal.throwIfAborted();
      failure = error;
    }
  }
  throw failure;
}

function request(url: URL, options: PinnedPostOptions): Uint8Array {
  const body = encoder.encode(options.body);
  const lines = [
    `POST ${url.pathname}${url.search} HTTP/1.1`,
    `Host: ${url.host}`,
  ];
  for (const [name, value] of Object.entries(options.headers)) {
    if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) {
      throw new TypeError(`Header "${name}" holds a line break`);
    }
    lines.push(`${name}: ${value}`);
  }
  lines.push(`Content-Length: ${body.length}`, "Connection: close", "", "");
  const head = encoder.encode(lines.join("\r\n"));
  const bytes = new Uint8Array(head.length + body.length);
  bytes.set(head);
  bytes.set(body, head.length);
  return bytes;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    written += await conn.write(bytes.subarray(written));
  }
}

/** The first final (non-1xx) status of the reply. */
async function readStatus(conn: Deno.Conn): Promise<number> {
  const buffer = new Uint8Array(MAX_HEAD_BYTES);
  let length = 0;
  let start = 0;
  for (;;) {
    const text = decoder.decode(buffer.subarray(start, length));
    const match = /^HTTP\/1\.[01] (\d{3})[^\r\n]*\r\n/.exec(text);
    if (match !== null) {
      const status = Number(match[1]);
      if (status >= 200) return status;
      // An informational reply (100, 103): skip to the next status line.
      const end = text.indexOf("\r\n\r\n");
      if (end !== -1) {
        start += encoder.encode(text.slice(0, end + 4)).length;
        continue;
      }
    } else if (length - start >= 12 && !/^HTTP\/1\.[01] \d{3}/.test(text)) {
      throw new Error("The receiver's reply is not HTTP/1.1");
    }
    if (length === buffer.length) {
      throw new Error("The receiver's reply has no status line");
    }
    const read = await conn.read(buffer.subarray(length));
    if (read === null) {
      throw new Error("The receiver closed the connection without a reply");
    }
    length += read;
  }
}

import assert from "node:assert/strict";
import { clientIp } from "./client_ip.ts";

const SOCKET = "198.51.100.9";

function request(forwardedFor?: string): Request {
  return new Request("http://parley.test/rpc/chat.boot", {
    headers: forwardedFor === undefined
      ? {}
      : { "X-Forwarded-For": forwardedFor },
  });
}

const rows: {
  name: string;
  forwardedFor?: string;
  trustProxy: number;
  ip: string;
}[] = [
  {
    name: "no proxy trusted: the socket, whatever the header says",
    forwardedFor: "1.2.3.4",
    trustProxy: 0,
    ip: SOCKET,
  },
  {
    name: "one proxy: the rightmost entry",
    forwardedFor: "6.6.6.6, 203.0.113.7",
    trustProxy: 1,
    ip: "203.0.113.7",
  },
  {
    name: "two proxies: the second from the right",
    forwardedFor: "6.6.6.6, 203.0.113.7, 10.0.0.2",
    trustProxy: 2,
    ip: "203.0.113.7",
  },
  {
    name: "a spoofed leftmost entry is never used",
    forwardedFor: "1.1.1.1, 2.2.2.2, 203.0.113.7",
    trustProxy: 1,
    ip: "203.0.113.7",
  },
  {
    name: "fewer entries than proxies: the leftmost there is",
    forwardedFor: "203.0.113.7",
    trustProxy: 3,
    ip: "203.0.113.7",
  },
  { name: "no header behind a proxy: the socket", trustProxy: 1, ip: SOCKET },
  {
    name: "garbage in the header: the socket",
    forwardedFor: "not an ip",
    trustProxy: 1,
    ip: SOCKET,
  },
  {
    name: "IPv6 entries are kept",
    forwardedFor: "2001:db8::1",
    trustProxy: 1,
    ip: "2001:db8::1",
  },
];

for (const row of rows) {
  Deno.test(`clientIp() ${row.name}`, () => {
    assert.equal(
      clientIp(request(row.forwardedFor), SOCKET, row.trustProxy),
      row.ip,
    );
  });
}

import { deepStrictEqual, strictEqual } from "node:assert/strict";
import {
  canonicalHost,
  type PrivateAddressKind,
  privateAddressKind,
  privateHostKind,
  webhookUrlProblem,
} from "./network_address.ts";

/** Webhook URLs a policy could name, and why each is refused (`undefined`: public). */
const URL_ROWS: [string, PrivateAddressKind | undefined][] = [
  // The review's list of URLs accepted before.
  ["http://169.254.169.254/latest/meta-data/", "metadata"],
  ["http://[fd00:ec2::254]/", "metadata"],
  ["http://metadata.google.internal/computeMetadata/v1/", "metadata"],
  ["https://metadata.google.internal./x", "metadata"],
  ["http://10.0.0.5:9200/_search", "private"],
  ["http://192.168.1.1/", "private"],
  ["http://localhost:2375/containers/json", "loopback"],
  ["http://[::1]:6379/", "loopback"],
  ["http://2130706433/", "loopback"],
  // Other spellings of loopback.
  ["http://0177.0.0.1/", "loopback"],
  ["http://0x7f.1/", "loopback"],
  ["http://127.1/", "loopback"],
  ["http://017700000001/", "loopback"],
  ["http://127.255.255.254/", "loopback"],
  ["http://LOCALHOST/", "loopback"],
  ["http://api.localhost/", "loopback"],
  ["http://[::ffff:127.0.0.1]/", "loopback"],
  ["http://[0:0:0:0:0:ffff:7f00:1]/", "loopback"],
  ["http://[64:ff9b::7f00:1]/", "loopback"],
  ["http://[2002:7f00:1::]/", "loopback"],
  // Unspecified.
  ["http://0/", "unspecified"],
  ["http://0.0.0.0:8080/", "unspecified"],
  ["http://[::]/", "unspecified"],
  // Private and its IPv6 forms.
  ["http://172.16.0.1/", "private"],
  ["http://172.31.255.255/", "private"],
  ["http://[::ffff:10.1.2.3]/", "private"],
  ["http://[64:ff9b::c0a8:101]/", "private"],
  ["http://[fc00::1]/", "private"],
  ["http://[fdff:ffff::1]/", "private"],
  ["http://[fec0::1]/", "private"],
  ["http://[64:ff9b:1::1]/", "private"],
  // Link-local.
  ["http://169.254.1.1/", "link-local"],
  ["http://[fe80::1]/", "link-local"],
  // Carrier-grade NAT, with a cloud's metadata address inside it.
  ["http://100.64.0.1/", "carrier-grade-nat"],
  ["http://100.127.255.255/", "carrier-grade-nat"],
  ["http://100.100.100.200/latest/meta-data/", "metadata"],
  ["http://169.254.170.2/v2/credentials", "metadata"],
  // Multicast and reserved.
  ["http://224.0.0.1/", "multicast"],
  ["http://239.255.255.250/", "multicast"],
  ["http://[ff02::1]/", "multicast"],
  ["http://255.255.255.255/", "reserved"],
  ["http://240.0.0.1/", "reserved"],
  ["http://192.0.2.10/", "reserved"],
  ["http://198.18.0.1/", "reserved"],
  ["http://[2001:db8::1]/", "reserved"],
  ["http://[::8.8.8.8]/", "reserved"],
  ["http://[100::1]/", "reserved"],
  // Names that only resolve inside a network.
  ["http://metadata/", "metadata"],
  ["http://metadata.goog/", "metadata"],
  ["http://instance-data/latest/", "metadata"],
  ["http://redis:6379/", "internal-name"],
  ["http://db.internal/", "internal-name"],
  ["http://printer.local/", "internal-name"],
  ["http://router.home.arpa/", "internal-name"],
  // Public: the neighbours of each range stay allowed.
  ["https://hooks.acme.com/parley", undefined],
  ["https://8.8.8.8/hook", undefined],
  ["https://9.255.255.255/", undefined],
  ["https://11.0.0.1/", undefined],
  ["https://100.63.255.255/", undefined],
  ["https://100.128.0.1/", undefined],
  ["https://126.255.255.255/", undefined],
  ["https://128.0.0.1/", undefined],
  ["https://172.15.255.255/", undefined],
  ["https://172.32.0.1/", undefined],
  ["https://192.167.255.255/", undefined],
  ["https://192.169.0.1/", undefined],
  ["https://223.255.255.255/", undefined],
  ["https://[2606:4700:4700::1111]/", undefined],
  ["https://[::ffff:8.8.8.8]/", undefined],
  ["https://[64:ff9b::808:808]/", undefined],
  ["https://[2002:808:808::1]/", undefined],
  ["https://metadata.example.com/", undefined],
  ["https://internal.acme.com/", undefined],
];

for (const [text, kind] of URL_ROWS) {
  Deno.test(`privateHostKind() says ${kind ?? "public"} for ${text}`, () => {
    strictEqual(privateHostKind(new URL(text).hostname), kind);
  });
}

/** What resolvers return, judged the same way. */
const ADDRESS_ROWS: [string, PrivateAddressKind | undefined][] = [
  ["127.0.0.1", "loopback"],
  ["::1", "loopback"],
  ["::ffff:127.0.0.1", "loopback"],
  ["fe80::1%eth0", "link-local"],
  ["10.0.0.5", "private"],
  ["fd00:ec2::254", "metadata"],
  ["93.184.215.14", undefined],
  ["2606:2800:21f:cb07:6820:80da:af6b:8b2c", undefined],
  ["not-an-address", "reserved"],
  ["1.2.3.256", "reserved"],
  ["1:2:3:4:5:6:7:8:9", "reserved"],
  ["1::2::3", "reserved"],
];

for (const [address, kind] of ADDRESS_ROWS) {
  Deno.test(`privateAddressKind() says ${kind ?? "public"} for ${address}`, () => {
    strictEqual(privateAddressKind(address), kind);
  });
}

Deno.test("canonicalHost() writes allowWebhookHosts entries as URL hostnames, and refuses what is not a bare host", () => {
  const rows: [string, string | undefined][] = [
    ["Hooks.Dev.Test", "hooks.dev.test"],
    ["hooks.dev.test.", "hooks.dev.test"],
    ["127.0.0.1", "127.0.0.1"],
    ["2130706433", "127.0.0.1"],
    ["::1", "[::1]"],
    ["[::1]", "[::1]"],
    ["[0:0:0:0:0:0:0:1]", "[::1]"],
    ["localhost", "localhost"],
    ["bücher.example", "xn--bcher-kva.example"],
    ["localhost:3000", undefined],
    ["[::1]:8080", undefined],
    ["http://localhost", undefined],
    ["*.dev.test", undefined],
    ["a b", undefined],
    ["", undefined],
  ];
  for (const [entry, host] of rows) {
    strictEqual(canonicalHost(entry), host, entry);
  }
});

Deno.test("webhookUrlProblem() wants https to a public host, unless the operator allows the host", () => {
  const allow = ["127.0.0.1", "hooks.dev.test", "[::1]"];
  const rows: [string, readonly string[], unknown][] = [
    ["https://hooks.acme.com/x", [], undefined],
    ["http://hooks.acme.com/x", [], { code: "webhook-not-https" }],
    ["http://127.0.0.1:9/x", [], {
      code: "webhook-private-address",
      kind: "loopback",
    }],
    ["https://10.0.0.5/x", [], {
      code: "webhook-private-address",
      kind: "private",
    }],
    ["http://127.0.0.1:9/x", allow, undefined],
    ["http://2130706433:9/x", allow, undefined],
    ["http://[::1]:9/x", allow, undefined],
    ["http://hooks.dev.test/x", allow, undefined],
    ["http://HOOKS.dev.test./x", allow, undefined],
    // The list names hosts, not what they resolve to or their subdomains.
    ["http://localhost:9/x", allow, {
      code: "webhook-private-address",
      kind: "loopback",
    }],
    ["http://a.hooks.dev.test/x", allow, { code: "webhook-not-https" }],
    ["http://127.0.0.2/x", allow, {
      code: "webhook-private-address",
      kind: "loopback",
    }],
  ];
  for (const [url, hosts, problem] of rows) {
    deepStrictEqual(webhookUrlProblem(new URL(url), hosts), problem, url);
  }
});

/**
 * Webhook URLs that reach the server's own machine, its network or a cloud's
 * metadata service — the security review's list of URLs validation accepted,
 * and other spellings of them. Validation (`policy/webhook_url_test.ts`) and
 * `policy check` (`policy/cli_test.ts`) refuse every one with
 * `webhook-private-address`.
 *
 * @module
 */

/** `[url, what it reaches]` */
export const PRIVATE_WEBHOOK_URLS: readonly (readonly [string, string])[] = [
  [
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "the instance metadata service",
  ],
  ["http://[fd00:ec2::254]/latest/meta-data/", "AWS metadata over IPv6"],
  [
    "http://metadata.google.internal/computeMetadata/v1/",
    "Google Cloud metadata by name",
  ],
  ["https://metadata.goog/computeMetadata/v1/", "its other name"],
  ["http://10.0.0.5:9200/_search", "a private address"],
  ["https://192.168.1.1/", "a home router"],
  ["http://localhost:2375/containers/json", "a local Docker socket"],
  ["http://[::1]:6379/", "IPv6 loopback"],
  ["http://2130706433/", "loopback as one decimal"],
  ["https://0177.0.0.1/", "loopback in octal"],
  ["https://127.1/", "loopback in short form"],
  ["https://[::ffff:127.0.0.1]/", "loopback mapped into IPv6"],
  ["https://100.64.0.1/", "carrier-grade NAT"],
  ["https://[fe80::1]/", "IPv6 link-local"],
  ["https://224.0.0.1/", "multicast"],
];

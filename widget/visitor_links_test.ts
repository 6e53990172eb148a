import assert from "node:assert/strict";
import { contactField, pageFields } from "./visitor_links.ts";

const PAGE = "https://shop.acme.com/jackets?size=m";

Deno.test("pageFields() links the page, and a referrer only on the page's own origin", () => {
  const rows: readonly [referrer: string, what: string, linked: boolean][] = [
    ["https://shop.acme.com/", "a page of the same site", true],
    [
      "https://shop.acme.com:443/cart",
      "the same origin, its port written",
      true,
    ],
    ["https://acme-support.evil.example/sso/login", "a look-alike site", false],
    ["https://www.google.com/", "a search engine", false],
    ["http://shop.acme.com/", "the same host over http", false],
    ["https://blog.acme.com/", "another subdomain", false],
    ["https://user:pw@shop.acme.com/", "credentials in the URL", false],
    ["javascript:alert(1)", "a script URL", false],
    ["not a url", "not a URL", false],
  ];
  for (const [referrer, what, linked] of rows) {
    const fields = pageFields({ url: PAGE, title: "Jackets", referrer });
    assert.deepEqual(fields.page, { text: "Jackets", href: PAGE }, what);
    assert.deepEqual(
      fields.referrer,
      linked ? { text: referrer, href: referrer } : { text: referrer },
      what,
    );
  }
});

Deno.test("pageFields() shows a page without a title by its URL, and one that is not a web page as text", () => {
  assert.deepEqual(pageFields({ url: PAGE }), {
    page: { text: PAGE, href: PAGE },
  });
  assert.deepEqual(
    pageFields({ url: "data:text/html,hi", referrer: "data:text/html,hi" }),
    {
      page: { text: "data:text/html,hi" },
      referrer: { text: "data:text/html,hi" },
    },
  );
});

Deno.test("contactField() offers mailto: only for a plain address, its local part encoded", () => {
  assert.deepEqual(contactField("pat@example.com"), {
    text: "pat@example.com",
    href: "mailto:pat@example.com",
  });
  assert.deepEqual(contactField("a#b+c@example.com"), {
    text: "a#b+c@example.com",
    href: "mailto:a%23b%2Bc@example.com",
  });
  const attack = "billing?cc=attacker%40evil.example&subject=re@acme.com";
  assert.deepEqual(contactField(attack), { text: attack });
});

import assert from "node:assert/strict";
import {
  buildLocales,
  buildStylesheet,
  buildWidget,
  largestLocaleReport,
  LOCALE_GZIP_BUDGET_BYTES,
  WIDGET_GZIP_BUDGET_BYTES,
} from "./build.ts";
import { SUPPORTED_LOCALES } from "../wire/locale_match.ts";
import { INBOX_CSS } from "./inbox_styles.ts";

const widget = await buildWidget();

Deno.test("buildWidget() emits one IIFE that defines window.ChatWidget", () => {
  assert.match(widget.code, /^\(\(\)=>\{/);
  assert.match(widget.code, /\}\)\(\);\n?$/);
  assert.ok(widget.code.includes("ChatWidget"));
});

Deno.test("buildWidget() output runs no string as code (no eval, no new Function)", () => {
  assert.doesNotMatch(widget.code, /\beval\s*\(/);
  assert.doesNotMatch(widget.code, /new\s+Function\s*\(/);
  assert.doesNotMatch(widget.code, /\bDeno\./);
});

Deno.test("buildWidget() stays within the 12 KB gzip budget", () => {
  assert.ok(
    widget.gzipBytes <= WIDGET_GZIP_BUDGET_BYTES,
    `widget.js is ${widget.gzipBytes} bytes gzip, over ${WIDGET_GZIP_BUDGET_BYTES}`,
  );
  assert.ok(widget.gzipBytes > 0 && widget.gzipBytes < widget.bytes);
});

Deno.test("buildWidget() reports bytes, SRI and ETag of the code it returns", async () => {
  const bytes = new TextEncoder().encode(widget.code);
  assert.equal(widget.bytes, bytes.byteLength);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-384", bytes));
  assert.equal(widget.sri, `sha384-${btoa(String.fromCharCode(...digest))}`);
  assert.match(widget.etag, /^"[A-Za-z0-9_-]{32}"$/);
});

Deno.test("buildWidget() is deterministic, and concurrent builds share one esbuild service", async () => {
  const [first, second] = await Promise.all([buildWidget(), buildWidget()]);
  assert.equal(first.sri, widget.sri);
  assert.equal(second.etag, widget.etag);
});

Deno.test("buildWidget({ minify: false }) keeps readable names", async () => {
  const readable = await buildWidget({ minify: false });
  assert.ok(readable.code.includes("createChatWidget"));
  assert.ok(readable.bytes > widget.bytes);
});

Deno.test("buildLocales() builds every supported locale but the built-in English, minified, each within the 2 KB gzip budget", async () => {
  const locales = await buildLocales();
  assert.deepEqual(
    locales.map((locale) => locale.locale),
    SUPPORTED_LOCALES.filter((locale) => locale !== "en"),
  );
  for (const locale of locales) {
    assert.deepEqual(
      JSON.stringify(JSON.parse(locale.code)),
      locale.code,
      `${locale.locale} is minified`,
    );
    assert.equal(locale.bytes, new TextEncoder().encode(locale.code).length);
    assert.match(locale.etag, /^"[A-Za-z0-9_-]{32}"$/);
    assert.ok(
      locale.gzipBytes <= LOCALE_GZIP_BUDGET_BYTES,
      `${locale.locale}.json is ${locale.gzipBytes} bytes gzip, over ${LOCALE_GZIP_BUDGET_BYTES}`,
    );
  }
  assert.equal(
    new Set(locales.map((locale) => locale.etag)).size,
    locales.length,
  );
  console.log(largestLocaleReport(locales));
});

Deno.test("buildStylesheet() minifies the inbox's CSS and names it by its content", async () => {
  const styles = await buildStylesheet(INBOX_CSS);
  assert.ok(styles.bytes < new TextEncoder().encode(INBOX_CSS).byteLength);
  assert.ok(styles.code.includes("--p-surface:"));
  assert.ok(styles.code.includes("prefers-color-scheme:dark"));
  assert.match(styles.etag, /^"[A-Za-z0-9_-]{32}"$/);
  assert.equal((await buildStylesheet(INBOX_CSS)).etag, styles.etag);
  assert.notEqual(
    (await buildStylesheet(`${INBOX_CSS}a{color:red}`)).etag,
    styles.etag,
  );
});

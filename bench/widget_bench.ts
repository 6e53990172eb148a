/**
 * The widget bundle: build time, and its size against the 12 KB gzip budget
 * beside a bare launcher-and-panel script measured the same way (the floor any
 * chat widget pays). Run: `deno bench -A bench/widget_bench.ts`.
 *
 * @module
 */

import { buildWidget, WIDGET_GZIP_BUDGET_BYTES } from "../widget/build.ts";

/** A vanilla button that opens an empty panel: the smallest possible widget. */
const BARE_WIDGET =
  `(()=>{const b=document.createElement("button");b.textContent="Chat";
b.style.cssText="position:fixed;right:16px;bottom:16px";const p=document.createElement("div");
p.hidden=true;p.style.cssText="position:fixed;right:16px;bottom:64px;width:320px;height:420px;background:#fff";
b.onclick=()=>{p.hidden=!p.hidden};document.body.append(b,p)})();`;

async function gzipBytes(text: string): Promise<number> {
  const stream = new Blob([text]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  return (await new Response(stream).arrayBuffer()).byteLength;
}

const widget = await buildWidget();
const bare = await gzipBytes(BARE_WIDGET);
console.log(
  `widget.js: ${widget.bytes} bytes, ${widget.gzipBytes} bytes gzip ` +
    `(budget ${WIDGET_GZIP_BUDGET_BYTES}, ${
      (widget.gzipBytes / WIDGET_GZIP_BUDGET_BYTES * 100).toFixed(0)
    }% used); ` +
    `bare launcher ${bare} bytes gzip (${
      (widget.gzipBytes / bare).toFixed(1)
    }× it)`,
);

Deno.bench({
  name: "buildWidget() (esbuild, minified IIFE)",
  n: 5,
  warmup: 1,
  async fn() {
    await buildWidget();
  },
});

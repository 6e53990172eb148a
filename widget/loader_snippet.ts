/**
 * The loader snippet that websites paste before widget.js: a stub
 * `window.ChatWidget` that queues calls in `ChatWidget.q`, so `boot` may be
 * called before the real widget has loaded; widget.js replays the queue.
 *
 * @module
 */

/**
 * The snippet's JavaScript (put it in a `<script>` before
 * `<script src="…/widget.js" async>`). README and tests use this exact text.
 */
export const LOADER_SNIPPET: string =
  `(function(w){if(w.ChatWidget)return;var q=[],c=w.ChatWidget={q:q};` +
  `["boot","shutdown","update","show","hide","onReady"].forEach(function(m){` +
  `c[m]=function(){q.push([m,[].slice.call(arguments)])}})})(window);`;

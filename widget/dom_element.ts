/**
 * Builds the widget's and the inbox's DOM from plain values: attributes are
 * set with `setAttribute` and children appended as nodes or text, so text
 * from the server or a visitor never passes through `innerHTML`.
 *
 * @module
 */

/**
 * A new element with its attributes and children.
 *
 * @param tag the element's tag name
 * @param attributes set in order with `setAttribute`
 * @param children appended in order; strings become text nodes
 * @returns the element
 */
export function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string>,
  children: readonly (Node | string)[] = [],
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}

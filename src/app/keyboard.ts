/** Input types whose keys do not type text (a shortcut pressed there is the studio's). */
const NON_TEXT_INPUTS = new Set(['button', 'checkbox', 'radio', 'range', 'color', 'file', 'submit', 'reset', 'image']);

/**
 * Whether keyboard focus is where keys type text and Ctrl+Z undoes typing
 * (text inputs, text areas, editable content): there the studio's own
 * shortcuts stand aside.
 */
export function isTextEntry(el: Element | null): boolean {
  if (!(el instanceof HTMLElement)) return false;
  if (el.isContentEditable || el instanceof HTMLTextAreaElement) return true;
  return el instanceof HTMLInputElement && !NON_TEXT_INPUTS.has(el.type);
}

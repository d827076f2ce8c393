/**
 * HTML with escaping by construction: the one function that escapes text
 * for HTML (escapeHtml) and the `html` tag every view writes with. An
 * interpolated value is escaped unless it is itself an Html (a fragment
 * built with the tag, or raw() for the rare trusted constant); arrays are
 * joined; null, undefined and false render as nothing. So a payload, an
 * error text, a queue or channel name can never become markup, in text or
 * in a quoted attribute value (views always quote attributes).
 */

/** A fragment of HTML that is safe to insert as is. */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text as HTML: & < > " ' become entities (safe in text and in quoted attribute values). */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

export type Interpolation = Html | string | number | bigint | boolean | null | undefined | readonly Interpolation[];

function render(value: Interpolation): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

/** The tag: html`<td>${name}</td>` escapes name. */
export function html(strings: TemplateStringsArray, ...values: Interpolation[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new Html(out);
}

/** Trusted markup written in this package (never data). */
export function raw(text: string): Html {
  return new Html(text);
}

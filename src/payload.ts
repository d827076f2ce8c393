/**
 * Stored JSON text -> value, the one reading of what the extension hands
 * back (job payloads, notifications, stream events, results, schedules).
 */

/** Stored text -> value. Text that is not JSON (written by raw SQL) is handed over as is. */
export function parsePayload<T>(text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    return text as T;
  }
}

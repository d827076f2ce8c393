/**
 * Ctrl-C for the commands that run until stopped (listen, tail): an
 * AbortSignal that SIGINT and SIGTERM abort, so they end with exit 0.
 */

/** The signal, and dispose() that removes the handlers again. */
export function stopSignal(): { signal: AbortSignal; dispose: () => void } {
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return {
    signal: ac.signal,
    dispose: () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    },
  };
}

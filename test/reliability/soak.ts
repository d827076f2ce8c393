/**
 * Short (default CI) or long (`npm run test:soak`) versions of each reliability scenario.
 * HONKER_SOAK=1 selects the long ones; scripts/test-soak.ts sets it.
 */
export const soak = process.env.HONKER_SOAK === '1';

/** The short value in the default run, the long one under `npm run test:soak`. */
export function scale<T>(short: T, long: T): T {
  return soak ? long : short;
}

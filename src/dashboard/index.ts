/**
 * The dashboard (README "Dashboard"): see and operate a honker database in a
 * browser, on SQLite or Postgres. handler.ts is the request handler
 * (`dashboard(db, options)`), views.ts the pages, html.ts their escaping,
 * live.ts the live updates, data.ts the SQL calls (DashboardData),
 * engine.ts what differs between SQLite and Postgres, assets.ts the static
 * files; `honker dashboard` (src/cli/dashboard.ts) serves it from its own
 * node:http server.
 */
export { dashboard, type DashboardHandler, type DashboardOptions } from './handler.js';
export type { DashboardDatabase } from './engine.js';

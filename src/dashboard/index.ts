/**
 * The dashboard (README "Dashboard"): see and operate a honker database in a
 * browser. handler.ts is the request handler (`dashboard(db, options)`),
 * views.ts the pages, html.ts their escaping, live.ts the live updates,
 * data.ts the SQL calls, assets.ts the static files; `honker dashboard`
 * (src/cli/dashboard.ts) serves it from its own node:http server.
 */
export { dashboard, type DashboardHandler, type DashboardOptions } from './handler.js';

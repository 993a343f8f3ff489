// Opens the control plane a workspace names: a control.db path, or a PostgreSQL URL (--control,
// CELLCTL_CONTROL_URL). The one place that chooses between the two implementations.
import type { ControlPlane } from './plane.js';
import type { PgPlaneOptions } from './pg-connection.js';
import { redactUrl } from './pg-url.js';
import { SqliteControlPlane, type SqlitePlaneOptions } from './sqlite-plane.js';

/** Whether `location` is a PostgreSQL connection URL (else it is a control.db path). */
export const isPostgresUrl = (location: string): boolean => /^postgres(ql)?:\/\//i.test(location.trim());

/** `location` as it may be printed: a URL without its password, or the path. */
/** A control-plane location safe to print: any URL (PostgreSQL's, or one given by mistake) without its password. */
export const printableLocation = (location: string): string => (/^[a-z][a-z0-9+.-]*:\/\//i.test(location.trim()) ? redactUrl(location.trim()) : location);

export interface OpenPlaneOptions {
  sqlite?: SqlitePlaneOptions;
  postgres?: PgPlaneOptions;
}

/** Opens an existing control.db, or connects to PostgreSQL (creating the schema there on first use). */
export async function openControlPlane(location: string, options: OpenPlaneOptions = {}): Promise<ControlPlane> {
  if (!isPostgresUrl(location)) return SqliteControlPlane.open(location, options.sqlite);
  // Loaded only for a PostgreSQL plane: a control.db workspace never pays for the driver.
  const { PgControlPlane } = await import('./pg-plane.js');
  return PgControlPlane.connect(location.trim(), options.postgres);
}

// Every error code cellctl answers over HTTP (router, cells, supervisor and router admin APIs, cell
// data API) and every CLI error kind, each with its status or exit code: the one list scripts rely on.

/** Who answers a code: the router's public side, a built-in cell app, any JSON API on shared/http.ts (cells, the supervisor's and the router's admin APIs), the router's admin API, the supervisor's API, the cell data API. */
export type Answerer = 'router' | 'cell' | 'json-api' | 'router-admin' | 'supervisor' | 'data-api';

interface HttpErrorEntry {
  status: number;
  /** Other statuses the same code is answered with, where an example system answers so. */
  alsoStatus?: readonly number[];
  by: readonly Answerer[];
}

export const HTTP_ERRORS = {
  // 400
  bad_path: { status: 400, by: ['router', 'json-api'] },
  bad_customer_id: { status: 400, by: ['router'] },
  no_customer_claim: { status: 400, by: ['router'] },
  invalid_body: { status: 400, by: ['json-api'] },
  bad_request: { status: 400, by: ['data-api'] },
  no_data: { status: 400, by: ['cell'] },
  name_and_email_required: { status: 400, by: ['cell'] },
  invalid_field: { status: 400, by: ['cell'] },
  product_id_required: { status: 400, by: ['cell'] },
  invalid_quantity: { status: 400, by: ['cell'] },
  cart_empty: { status: 400, by: ['cell'] },
  // 401, 403
  unauthorized: { status: 401, by: ['router', 'router-admin', 'supervisor', 'data-api'] },
  forbidden: { status: 403, by: ['router', 'router-admin'] },
  // 404, 405
  not_found: { status: 404, by: ['router', 'json-api', 'data-api'] },
  customer_not_found: { status: 404, by: ['cell'] },
  // The e-commerce example answers 400 for an unknown product added to a cart, 404 when asked for one.
  product_not_found: { status: 404, alsoStatus: [400], by: ['cell'] },
  not_in_cart: { status: 404, by: ['cell'] },
  order_not_found: { status: 404, by: ['cell'] },
  method_not_allowed: { status: 405, by: ['json-api'] },
  // 408, 409, 413, 422, 429
  request_timeout: { status: 408, by: ['router'] },
  email_taken: { status: 409, by: ['cell'] },
  customer_exists: { status: 409, by: ['cell'] },
  product_gone: { status: 409, by: ['cell'] },
  not_drained: { status: 409, by: ['router-admin'] },
  fence_lost: { status: 409, by: ['router-admin'] },
  stale_owner: { status: 409, by: ['data-api'] },
  // An online move asked for changes no capture recorded (it was stopped, or never started): the move must start again.
  not_capturing: { status: 409, by: ['data-api'] },
  body_too_large: { status: 413, by: ['router', 'json-api', 'data-api'] },
  invalid_settings: { status: 422, by: ['router-admin'] },
  not_declared: { status: 422, by: ['data-api'] },
  not_keyed: { status: 422, by: ['data-api'] },
  conflict: { status: 409, by: ['data-api'] },
  rate_limited: { status: 429, by: ['router'] },
  // 5xx
  internal: { status: 500, by: ['router', 'json-api'] },
  // The connection to a cell broke after the request was written to it: it may have landed.
  cell_connection_lost: { status: 502, by: ['router'] },
  cell_unavailable: { status: 503, by: ['router'] },
  no_cell: { status: 503, by: ['router'] },
  customer_moving: { status: 503, by: ['router', 'cell'] },
  mapping_unconfirmed: { status: 503, by: ['router'] },
  overloaded: { status: 503, by: ['router'] },
  too_many_connections: { status: 503, by: ['router'] },
  database_busy: { status: 503, by: ['json-api', 'data-api'] },
  control_plane_unavailable: { status: 503, by: ['router-admin'] },
  cell_timeout: { status: 504, by: ['router'] },
} as const satisfies Record<string, HttpErrorEntry>;

export type HttpErrorCode = keyof typeof HTTP_ERRORS;

/** The process exit codes of the CLI. */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  unhealthy: 3,
  inconsistent: 4,
  /** Ctrl-C, as a shell reports it (128 + SIGINT). */
  interrupted: 130,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** Every kind of expected CLI failure (CellctlError.code) and the exit code it ends the CLI with. */
export const CLI_ERRORS = {
  E_FAILED: { exit: ExitCode.failure, means: 'the system refused the command (state, files, processes)' },
  E_USAGE: { exit: ExitCode.usage, means: 'a flag or argument is wrong' },
  E_TEMPLATE: { exit: ExitCode.failure, means: 'a template folder is invalid' },
  E_MIGRATION_REFUSED: { exit: ExitCode.failure, means: 'a move failed its pre-checks' },
  E_MIGRATION_BUSY: { exit: ExitCode.failure, means: 'another live cellctl runs this move' },
  E_MIGRATION_RUNNING: { exit: ExitCode.failure, means: 'the customer is already being moved' },
  E_MIGRATION_TAKEN_OVER: { exit: ExitCode.failure, means: 'another cellctl took this move over' },
  E_MIGRATION_INTERRUPTED: {
    exit: ExitCode.failure,
    means: 'a move stopped because the control plane could not be reached; resume or abort it once it is back',
  },
  E_TABLES: { exit: ExitCode.failure, means: "a cell's declaration of customer tables is invalid or does not match its database" },
  E_DATA_API: { exit: ExitCode.failure, means: "a cell's data API answers as another cell or cannot be used" },
  E_CONTROL_URL: { exit: ExitCode.failure, means: 'a PostgreSQL connection string for the control plane is invalid' },
  E_CONTROL_UNAVAILABLE: { exit: ExitCode.failure, means: 'the PostgreSQL control plane cannot be reached' },
  E_CONTROL_SCHEMA: { exit: ExitCode.failure, means: "the PostgreSQL control plane's schema is of another version" },
  E_CONTROL_NOT_EMPTY: { exit: ExitCode.failure, means: 'a copy of the control plane was refused: the target already holds one' },
  E_COPY_MISMATCH: { exit: ExitCode.failure, means: 'a copied control plane does not match its source' },
  E_MAPPING_CHANGED: { exit: ExitCode.failure, means: "a customer's mapping changed during a move's switch" },
  E_ONLY_COPY: { exit: ExitCode.failure, means: "a delete of a customer's rows was refused: no other cell is known to hold them" },
  E_CONTROL_BEHIND: {
    exit: ExitCode.failure,
    means: 'the control plane is behind its cells (a cell saw a fencing number it never issued: restored from a backup?); run "cellctl repair"',
  },
  E_PURGE_OVERTAKEN: { exit: ExitCode.failure, means: 'a purge was refused by the cell: a move of the customer started after the purge checked it' },
  E_DATABASE_BUSY: {
    exit: ExitCode.failure,
    means: "a cell's database stayed locked by another writer; the message names the cell and what finishes the work",
  },
  E_DOCKER_UNAVAILABLE: { exit: ExitCode.failure, means: 'no docker client on PATH, or the Docker engine it talks to (DOCKER_HOST) does not answer' },
  E_IMAGE_BASE_MISSING: { exit: ExitCode.failure, means: 'the base image of an image build is not in the engine and could not be pulled' },
  E_IMAGE_BUILD: { exit: ExitCode.failure, means: 'docker build or docker push failed; the message ends with its last lines of output' },
  E_ENGINE: {
    exit: ExitCode.failure,
    means: 'the Docker engine failed a runtime operation: an image or network it lacks, a container or volume it would not make',
  },
} as const satisfies Record<string, { exit: ExitCodeValue; means: string }>;

export type CliErrorCode = keyof typeof CLI_ERRORS;

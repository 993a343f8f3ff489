// The drill's verdict, pure: who failed while a cell was down, against the expected blast radius.

export interface DrillSample {
  customerId: string;
  at: number;
  status: number;
}

export interface CellOutcome {
  cell: string;
  customers: number;
  requests: number;
  failed: number;
  failedRequestShare: number;
  customersWithFailures: number;
}

export interface DrillSummary {
  victim: string;
  expectedBlastRadius: number;
  customerShareFailed: number;
  requestShareFailed: number;
  failuresOutsideVictim: number;
  /** Answers 429 from the router's rate limit: neither failures nor proof of health. */
  rateLimited: number;
  contained: boolean;
  recoveryMs: number | null;
  /** False when the killed cell held no customers: there was nothing to recover. */
  recoveryMeasured: boolean;
  cells: CellOutcome[];
}

const failedStatus = (status: number) => status === 0 || status >= 500;

export function summarizeDrill(samples: readonly DrillSample[], mapping: ReadonlyMap<string, string>, victim: string, killedAt: number): DrillSummary {
  const cells = new Map<string, CellOutcome & { failedCustomers: Set<string> }>();
  for (const cell of new Set(mapping.values())) {
    cells.set(cell, { cell, customers: 0, requests: 0, failed: 0, failedRequestShare: 0, customersWithFailures: 0, failedCustomers: new Set() });
  }
  for (const cell of mapping.values()) cells.get(cell)!.customers += 1;
  let recoveryMs: number | null = null;
  let lastVictimFailure = -1;
  for (const sample of samples) {
    const cell = cells.get(mapping.get(sample.customerId) ?? '');
    if (!cell) continue;
    cell.requests += 1;
    if (failedStatus(sample.status)) {
      cell.failed += 1;
      cell.failedCustomers.add(sample.customerId);
      if (cell.cell === victim) lastVictimFailure = Math.max(lastVictimFailure, sample.at);
    }
  }
  const victimOk = samples.filter(
    (s) => mapping.get(s.customerId) === victim && s.at > killedAt && !failedStatus(s.status) && s.status !== 429 && s.at > lastVictimFailure,
  );
  if (victimOk.length > 0) recoveryMs = Math.min(...victimOk.map((s) => s.at)) - killedAt;
  const outcomes = [...cells.values()].map(({ failedCustomers, ...cell }) => ({
    ...cell,
    customersWithFailures: failedCustomers.size,
    failedRequestShare: cell.requests === 0 ? 0 : cell.failed / cell.requests,
  }));
  const totalCustomers = mapping.size;
  const totalRequests = outcomes.reduce((sum, cell) => sum + cell.requests, 0);
  const failuresOutsideVictim = outcomes.filter((cell) => cell.cell !== victim).reduce((sum, cell) => sum + cell.failed, 0);
  return {
    victim,
    expectedBlastRadius: totalCustomers === 0 ? 0 : (cells.get(victim)?.customers ?? 0) / totalCustomers,
    customerShareFailed: totalCustomers === 0 ? 0 : outcomes.reduce((sum, cell) => sum + cell.customersWithFailures, 0) / totalCustomers,
    requestShareFailed: totalRequests === 0 ? 0 : outcomes.reduce((sum, cell) => sum + cell.failed, 0) / totalRequests,
    failuresOutsideVictim,
    rateLimited: samples.filter((sample) => sample.status === 429).length,
    contained: failuresOutsideVictim === 0,
    recoveryMs,
    recoveryMeasured: (cells.get(victim)?.customers ?? 0) > 0,
    cells: outcomes.sort((a, b) => a.cell.localeCompare(b.cell)),
  };
}

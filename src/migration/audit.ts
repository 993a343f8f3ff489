// The audit, pure: compares where customers' rows are with where the mapping says they live.
export type FindingKind = 'misplaced' | 'duplicated' | 'missing' | 'unmapped';

export interface AuditFinding {
  kind: FindingKind;
  customerId: string;
  mappedTo: string | null;
  foundIn: string[];
  advice: string;
}

export interface AuditInput {
  mapping: ReadonlyMap<string, string>;
  rowsByCell: ReadonlyMap<string, ReadonlySet<string>>;
  /** Customers with a migration in flight, or a source copy kept on purpose: not findings. */
  excused: ReadonlySet<string>;
  /** Kept source copies: customer → the cell that keeps its old rows. */
  keptSources: ReadonlyMap<string, string>;
  /**
   * Cells whose rows could not be read. Their customers are not judged (where their rows are is not
   * known), nor is any customer "missing": its rows may be in one of them.
   */
  unreadableCells?: ReadonlySet<string>;
}

/** Whether the audit can judge this customer with the cells it could read. */
function judgeable(input: AuditInput, mappedTo: string | null, cells: readonly string[]): boolean {
  const unreadable = input.unreadableCells ?? new Set<string>();
  if (mappedTo !== null && unreadable.has(mappedTo)) return false;
  return !(cells.length === 0 && unreadable.size > 0);
}

function duplicatedAdvice(customerId: string, mappedTo: string | null, cells: string[]): string {
  if (mappedTo === null)
    return `rows in ${cells.join(' and ')} and no mapping row: "cellctl customers show ${customerId}", then "cellctl assign customer ${customerId} --cell <the cell to keep>"`;
  const strays = cells.filter((cell) => cell !== mappedTo);
  return `rows in ${cells.join(' and ')}; ${mappedTo} is the one served: "cellctl customers show ${customerId}" compares them, then ${strays
    .map((cell) => `"cellctl customers purge ${customerId} --cell ${cell} --yes"`)
    .join(' and ')} removes the copy that is not served`;
}

export function auditPlacement(input: AuditInput): AuditFinding[] {
  const foundIn = new Map<string, string[]>();
  for (const [cell, ids] of input.rowsByCell) {
    for (const id of ids) {
      if (input.keptSources.get(id) === cell) continue;
      const cells = foundIn.get(id) ?? [];
      cells.push(cell);
      foundIn.set(id, cells);
    }
  }
  const findings: AuditFinding[] = [];
  const ids = new Set([...foundIn.keys(), ...input.mapping.keys()]);
  for (const customerId of [...ids].sort()) {
    if (input.excused.has(customerId)) continue;
    const mappedTo = input.mapping.get(customerId) ?? null;
    const cells = (foundIn.get(customerId) ?? []).sort();
    if (!judgeable(input, mappedTo, cells)) continue;
    if (cells.length > 1) {
      findings.push({ kind: 'duplicated', customerId, mappedTo, foundIn: cells, advice: duplicatedAdvice(customerId, mappedTo, cells) });
    } else if (cells.length === 0 && mappedTo !== null) {
      findings.push({
        kind: 'missing',
        customerId,
        mappedTo,
        foundIn: [],
        advice: `mapped to ${mappedTo} but has no rows in any cell: "cellctl customers unassign ${customerId}"`,
      });
    } else if (cells.length === 1 && mappedTo === null) {
      findings.push({
        kind: 'unmapped',
        customerId,
        mappedTo,
        foundIn: cells,
        advice: `rows in ${cells[0]} without a mapping row: "cellctl assign customer ${customerId} --cell ${cells[0]}"`,
      });
    } else if (cells.length === 1 && mappedTo !== cells[0]) {
      findings.push({
        kind: 'misplaced',
        customerId,
        mappedTo,
        foundIn: cells,
        advice: `rows in ${cells[0]} but mapped to ${mappedTo}: "cellctl customers unassign ${customerId}" then "cellctl assign customer ${customerId} --cell ${cells[0]}"`,
      });
    }
  }
  return findings;
}

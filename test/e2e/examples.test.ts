// The example systems' own clients and contracts against a real cellctl system: the beginner
// example's test client (taken from its document, unchanged but for the router's address), both
// contracts through the router, and a user's own cell that records its cell in its rows.
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BASIC_CONTRACT, ECOMMERCE_CONTRACT, runContract } from '../contracts.js';
import { cliJson, cleanup, FIXTURES, http, otherCell, ROOT, startSystem, tempDir } from '../helpers.js';

afterAll(cleanup);

const SEEDS = path.resolve(ROOT, '..', 'shared', 'seeds');
const BEGINNER = path.join(SEEDS, '002_235112c71ff16069.txt');

/** Why python3 with `requests` cannot run here, or null when it can. */
function pythonRequestsMissing(): string | null {
  try {
    execFileSync('python3', ['-c', 'import requests'], { stdio: 'ignore' });
    return null;
  } catch {
    return 'python3 with the requests package is missing (apt-get install -y python3-requests)';
  }
}

/** The example's test client, as its document has it. */
function beginnerClient(): string | null {
  if (!fs.existsSync(BEGINNER)) return null;
  const blocks = fs
    .readFileSync(BEGINNER, 'utf8')
    .split('```python\n')
    .slice(1)
    .map((block) => block.split('\n```')[0]!);
  return blocks.find((block) => block.startsWith('# test_cell_architecture.py')) ?? null;
}

const missingPython = pythonRequestsMissing();
const client = beginnerClient();
const skipClient = missingPython ?? (client === null ? `the beginner example's document is not at ${BEGINNER}` : null);
if (skipClient) console.warn(`skipping the beginner example's own test client: ${skipClient}`);

describe("the beginner example's own test client", () => {
  it.skipIf(skipClient !== null)('runs against three basic cells with no failure mark and no error', async () => {
    const ws = await startSystem('basic', ['cell-a', 'cell-b', 'cell-c']);
    const script = path.join(tempDir(), 'test_cell_architecture.py');
    const source = client!.replace("ROUTER_URL = 'http://localhost:8000'", `ROUTER_URL = '${ws.url}'`);
    expect(source).not.toBe(client);
    fs.writeFileSync(script, source);
    const output = await new Promise<string>((resolve, reject) =>
      execFile('python3', [script], { timeout: 120_000 }, (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}\n${stdout}\n${stderr}`)) : resolve(stdout + stderr),
      ),
    );
    expect(output).not.toMatch(/✗|Error/);
    expect(output).toContain('All tests completed!');
    expect(output.match(/✓ Customer created in cell-[abc]/g)).toHaveLength(3);
    expect(output).toContain('✓ Customer updated in');
    expect(output).toContain('✓ Router is healthy');
  });
});

describe('times in the examples form', () => {
  it.skipIf(missingPython !== null)(
    "a Python client reads every time the cells answer with datetime.fromisoformat and compares it with utcnow(), as the examples' own times",
    async () => {
      const ws = await startSystem('ecommerce', ['e1'], { limits: { rateLimit: { requests: 1000, windowSeconds: 60 } } });
      const script = [
        'import requests, datetime, sys',
        `base = '${ws.url}/api/customers/py-1'`,
        "assert requests.post(base, json={'name': 'Py', 'email': 'py@example.com'}).status_code == 201",
        "assert requests.post(base + '/cart/items', json={'product_id': 'sku-cable', 'quantity': 2}).status_code == 200",
        "cart = requests.get(base + '/cart').json()",
        "assert requests.post(base + '/orders').status_code == 201",
        "times = [requests.get(base).json()['created_at'], cart['items'][0]['added_at']]",
        "for order in requests.get(base + '/orders').json()['orders']: times += [order['created_at'], order['updated_at']]",
        'now = datetime.datetime.utcnow()',
        'for t in times:',
        '    parsed = datetime.datetime.fromisoformat(t)',
        '    assert parsed.tzinfo is None and parsed <= now and now - parsed < datetime.timedelta(minutes=5), t',
        "print('ok', len(times))",
      ].join('\n');
      const output = await new Promise<string>((resolve, reject) =>
        execFile('python3', ['-c', script], { timeout: 120_000 }, (error, stdout, stderr) =>
          error ? reject(new Error(`${error.message}\n${stdout}\n${stderr}`)) : resolve(stdout),
        ),
      );
      expect(output.trim()).toBe('ok 4');
    },
  );
});

describe('the example contracts through the router', () => {
  it('basic: every request of the beginner example', async () => {
    const ws = await startSystem('basic', ['b1', 'b2']);
    await runContract(BASIC_CONTRACT, ws.url, { direct: false, cellOf: (headers) => headers.get('x-cellctl-cell') ?? '(no cell header)' });
  });

  it('ecommerce: every request of the intermediate example', async () => {
    const ws = await startSystem('ecommerce', ['e1', 'e2'], { limits: { rateLimit: { requests: 1000, windowSeconds: 60 } } });
    await runContract(ECOMMERCE_CONTRACT, ws.url, { direct: false, cellOf: (headers) => headers.get('x-cellctl-cell') ?? '(no cell header)' });
  });
});

describe("a user's own cell that records its cell in its rows", () => {
  it('answers the new cell_id after a move', async () => {
    const ws = await startSystem('roster', ['r1', 'r2'], { templatePaths: [path.join(FIXTURES, 'templates')] });
    for (const id of ['ann', 'ben', 'cy']) {
      expect((await http('POST', `${ws.url}/api/customers/${id}`, { name: id, email: `${id}@example.com` })).status).toBe(201);
    }
    const before = await http('GET', `${ws.url}/api/customers/ann`);
    const target = otherCell(before.body.cell_id, ['r1', 'r2']);
    await cliJson(ws.home, ['migrate', 'customer', 'ann', '--to', target]);
    const after = await http('GET', `${ws.url}/api/customers/ann`);
    expect(after.headers.get('x-cellctl-cell')).toBe(target);
    expect(after.body).toMatchObject({ customer_id: 'ann', name: 'ann', cell_id: target, created_at: before.body.created_at });
  });
});

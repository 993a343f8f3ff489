// cellctl token: a signed JWT for one customer, for testing the router in JWT mode.
import { signCustomerToken } from '../../shared/tokens.js';
import { readJwtKey } from '../../workspace/secrets.js';
import { withWorkspace } from '../context.js';
import { printLine, sayWarning } from '../output.js';
import type { InputOf } from '../define.js';
import type { token } from '../commands/token.js';

export async function run(input: InputOf<typeof token>): Promise<void> {
  const customerId = input.args.customer;
  const { ttl } = input.opts;
  await withWorkspace(input, async (ws) => {
    if (ws.settings.auth !== 'jwt') sayWarning('the router is in "none" auth mode; "cellctl config set auth jwt" makes the router require tokens');
    printLine(await signCustomerToken(readJwtKey(ws.home), customerId, ttl));
  });
}

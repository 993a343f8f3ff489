// cellctl token: a signed JWT for one customer, for testing the router in JWT mode.
import { signCustomerToken } from '../../shared/tokens.js';
import { checkCustomerId, parsePositiveInt } from '../../shared/names.js';
import { readJwtKey } from '../../workspace/secrets.js';
import { type CommandInput, flag, withWorkspace } from '../context.js';
import { printLine, sayWarning } from '../output.js';

export async function run(input: CommandInput): Promise<void> {
  const customerId = checkCustomerId(input.args[0]!);
  const ttl = parsePositiveInt(flag.string(input.opts, 'ttl') ?? '3600', '--ttl', 31_536_000);
  await withWorkspace(input, async (ws) => {
    if (ws.settings.auth !== 'jwt') sayWarning('the router is in "none" auth mode; "cellctl config set auth jwt" makes the router require tokens');
    printLine(await signCustomerToken(readJwtKey(ws.home), customerId, ttl));
  });
}

// cellctl token: a signed JWT for one customer, for testing the router in JWT mode.
import { signCustomerToken } from '../../shared/tokens.js';
import { checkCustomerId } from '../../shared/names.js';
import { readJwtKey } from '../../workspace/secrets.js';
import { type CommandInput, withWorkspace } from '../context.js';
import { printLine, sayWarning } from '../output.js';
import { commandOptions, type OptionsOf, count } from '../options.js';

export const options = commandOptions({ ttl: count('--ttl', 31_536_000) });

export async function run(input: CommandInput<OptionsOf<typeof options>>): Promise<void> {
  const customerId = checkCustomerId(input.args[0]!);
  const { ttl } = input.opts;
  await withWorkspace(input, async (ws) => {
    if (ws.settings.auth !== 'jwt') sayWarning('the router is in "none" auth mode; "cellctl config set auth jwt" makes the router require tokens');
    printLine(await signCustomerToken(readJwtKey(ws.home), customerId, ttl));
  });
}

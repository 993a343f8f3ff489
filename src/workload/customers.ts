// Customers created through the router the way a client would: used by `cellctl up` (sample data)
// and by the drill and smoke scripts. Only public HTTP; in JWT mode each request carries a token.
import axios, { type AxiosInstance } from 'axios';
import http from 'node:http';
import { signCustomerToken } from '../shared/tokens.js';

export interface CustomerClientOptions {
  /** The router's public URL (http://host:port). */
  routerUrl: string;
  jwtKey: Uint8Array | null;
}

export class CustomerClient {
  readonly http: AxiosInstance;
  private readonly tokens = new Map<string, string>();

  constructor(private readonly options: CustomerClientOptions) {
    this.http = axios.create({
      baseURL: options.routerUrl,
      timeout: 15_000,
      validateStatus: () => true,
      httpAgent: new http.Agent({ keepAlive: true, maxSockets: 16 }),
    });
  }

  private async headers(customerId: string): Promise<Record<string, string>> {
    if (!this.options.jwtKey) return {};
    let token = this.tokens.get(customerId);
    if (!token) {
      token = await signCustomerToken(this.options.jwtKey, customerId, 3600);
      this.tokens.set(customerId, token);
    }
    return { authorization: `Bearer ${token}` };
  }

  async request(method: 'GET' | 'POST' | 'PUT' | 'DELETE', customerId: string, suffix = '', body?: unknown) {
    const url = `/api/customers/${encodeURIComponent(customerId)}${suffix}`;
    return this.http.request({ method, url, data: body, headers: await this.headers(customerId) });
  }

  close(): void {
    (this.http.defaults.httpAgent as http.Agent).destroy();
  }
}

export const sampleCustomerId = (index: number): string => `c-${String(index).padStart(4, '0')}`;

export function sampleCustomer(id: string, withAddress: boolean): Record<string, unknown> {
  const number = Number(id.replace(/\D/g, '')) || 0;
  const customer: Record<string, unknown> = { name: `Customer ${number}`, email: `${id}@example.com` };
  if (withAddress) customer.address = { street: `${number} Cell Street`, city: 'Lisbon', postal_code: '1000-001', country: 'PT' };
  return customer;
}

export interface SeedResult {
  created: string[];
  existing: string[];
  failed: { id: string; status: number; message: string }[];
}

/** Creates customers c-0001..c-N through the router, a few at a time; existing ones are kept. */
export async function createSampleCustomers(client: CustomerClient, count: number, withAddress: boolean, concurrency = 8): Promise<SeedResult> {
  const result: SeedResult = { created: [], existing: [], failed: [] };
  let next = 1;
  const worker = async () => {
    while (next <= count) {
      const id = sampleCustomerId(next++);
      const response = await client.request('POST', id, '', sampleCustomer(id, withAddress));
      if (response.status === 201) result.created.push(id);
      else if (response.status === 409) result.existing.push(id);
      else result.failed.push({ id, status: response.status, message: JSON.stringify(response.data) });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return result;
}

/**
 * ArmRest: the ARM REST calls of the snapshot provider, answered at the HTTP layer by nock with ARM's documented
 * long-running-operation shapes (https://learn.microsoft.com/azure/azure-resource-manager/management/async-operations).
 */
import '../../helpers/promise-with-resolvers.ts';
import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArmRequestError, ArmRest } from '../../../functions/azure/adapters/arm-rest.ts';
import { isNotFound, toCloudCallError } from '../../../functions/azure/adapters/arm.ts';
import { lazyCredential } from '../../../functions/azure/runtime.ts';
import { ARM, SUB, fakeCredential } from '../../helpers/fake-arm.ts';

const NIC = `/subscriptions/${SUB}/resourceGroups/rg-web/providers/Microsoft.Network/networkInterfaces/nic-1`;
const waits: number[] = [];
const rest = (): ArmRest => new ArmRest({ credential: fakeCredential, pollIntervalMs: 7, sleep: async (ms) => void waits.push(ms) });

beforeEach(() => {
  nock.disableNetConnect();
  waits.length = 0;
});
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

describe('Class: ArmRest', () => {
  describe('Method: lro', () => {
    it('follows a POST answered 202 with Location only, and returns the Location answer byte for byte', async () => {
      const result = '{"value":[{"effectiveSecurityRules":[{"name":"securityRules/ssh","access":"Allow"}]}]}';
      nock(ARM)
        .post(`${NIC}/effectiveNetworkSecurityGroups`)
        .query({ 'api-version': '2025-05-01' })
        .reply(202, '', { Location: `${ARM}/subscriptions/${SUB}/providers/Microsoft.Network/locations/westeurope/operationResults/op-9?api-version=2025-05-01`, 'Retry-After': '3' })
        .get(`/subscriptions/${SUB}/providers/Microsoft.Network/locations/westeurope/operationResults/op-9`)
        .query(true)
        .reply(202, '', { Location: `${ARM}/subscriptions/${SUB}/providers/Microsoft.Network/locations/westeurope/operationResults/op-9?api-version=2025-05-01` })
        .get(`/subscriptions/${SUB}/providers/Microsoft.Network/locations/westeurope/operationResults/op-9`)
        .query(true)
        .reply(200, result);
      const arm = rest();

      const res = await arm.lro('POST', arm.url(`${NIC}/effectiveNetworkSecurityGroups`, '2025-05-01'));

      expect(res.bodyAsText).toBe(result);
      expect(res.request.method).toBe('GET');
      // Retry-After of the first answer (3 s), then the configured interval when ARM names none.
      expect(waits).toEqual([3000, 7]);
      expect(nock.isDone()).toBe(true);
    });

    it('throws the operation\'s own error code when the Azure-AsyncOperation ends Failed', async () => {
      const snap = `/subscriptions/${SUB}/resourceGroups/rg-evidence/providers/Microsoft.Compute/snapshots/amber-1`;
      const op = `${ARM}/subscriptions/${SUB}/providers/Microsoft.Compute/locations/westeurope/operations/op-1?api-version=2025-01-02`;
      nock(ARM)
        .put(snap)
        .query(true)
        .reply(201, '{}', { 'Azure-AsyncOperation': op })
        .get(`/subscriptions/${SUB}/providers/Microsoft.Compute/locations/westeurope/operations/op-1`)
        .query(true)
        .reply(200, { status: 'Failed', error: { code: 'QuotaExceeded', message: 'Snapshot quota exceeded in westeurope.' } });
      const arm = rest();

      const err = await arm.lro('PUT', arm.url(snap, '2025-01-02'), { location: 'westeurope' }).catch((e: unknown) => e);

      expect(err).toBeInstanceOf(ArmRequestError);
      expect(toCloudCallError(err, 'Microsoft.Compute/snapshots/write', `snapshot ${snap}`).message).toBe(`Microsoft.Compute/snapshots/write failed on snapshot ${snap}: QuotaExceeded: Snapshot quota exceeded in westeurope.`);
    });
  });

  describe('Method: call', () => {
    it('gives up after its attempts on a resource that stays throttled, naming ARM\'s code and keeping it retryable', async () => {
      nock(ARM).get(NIC).query(true).times(4).reply(429, { error: { code: 'TooManyRequests', message: 'throttled' } }, { 'Retry-After': 'Thu, 01 Jan 1970 00:00:00 GMT' });
      const arm = rest();

      const err = await arm.call('GET', arm.url(NIC, '2025-05-01')).catch((e: unknown) => e);

      const cloud = toCloudCallError(err, 'Microsoft.Network/networkInterfaces/read', NIC);
      expect(cloud.message).toContain('TooManyRequests: throttled');
      expect(cloud.retryable).toBe(true);
      expect(waits).toEqual([0, 0, 0]);
    });

    it('reports a missing resource as not found, without retrying', async () => {
      nock(ARM).get(NIC).query(true).once().reply(404, { error: { code: 'ResourceNotFound', message: `The Resource 'networkInterfaces/nic-1' was not found.` } });
      const arm = rest();

      const err = await arm.call('GET', arm.url(NIC, '2025-05-01')).catch((e: unknown) => e);

      expect(isNotFound(err)).toBe(true);
      expect(nock.isDone()).toBe(true);
    });

    it('sends the credential\'s ARM token and asks for it once while it is valid', async () => {
      const scopes: string[] = [];
      const credential = { getToken: async (s: string | string[]) => (scopes.push(String(s)), { token: 'tok-1', expiresOnTimestamp: Date.now() + 3_600_000 }) };
      nock(ARM, { reqheaders: { authorization: 'Bearer tok-1' } }).get(NIC).query(true).twice().reply(200, '{"id":"x"}');
      const arm = new ArmRest({ credential });

      await arm.call('GET', arm.url(NIC, '2025-05-01'));
      await arm.call('GET', arm.url(NIC, '2025-05-01'));

      expect(scopes).toEqual(['https://management.azure.com/.default']);
    });
  });
});

describe('Function: lazyCredential', () => {
  it('makes the credential on the first token asked for, once', async () => {
    let made = 0;
    const credential = lazyCredential(async () => {
      made += 1;
      return fakeCredential;
    });
    expect(made).toBe(0);

    const [a, b] = await Promise.all([credential.getToken('https://management.azure.com/.default'), credential.getToken('https://management.azure.com/.default')]);

    expect(a?.token).toBe('fake-arm-token');
    expect(b?.token).toBe('fake-arm-token');
    expect(made).toBe(1);
  });
});

describe('Class: ArmRest, expired tokens', () => {
  it('asks the credential for a new token once when ARM says the token expired, and sends it', async () => {
    let n = 0;
    const credential = { getToken: async () => ({ token: `tok-${++n}`, expiresOnTimestamp: Date.now() + 3_600_000 }) };
    nock(ARM, { reqheaders: { authorization: 'Bearer tok-1' } }).get(NIC).query(true).reply(401, { error: { code: 'ExpiredAuthenticationToken', message: 'The access token expiry UTC time is earlier than current UTC time.' } });
    nock(ARM, { reqheaders: { authorization: 'Bearer tok-2' } }).get(NIC).query(true).reply(200, '{"id":"nic"}');
    const arm = new ArmRest({ credential, sleep: async () => undefined });

    const res = await arm.call('GET', arm.url(NIC, '2025-05-01'));

    expect(res.bodyAsText).toBe('{"id":"nic"}');
    expect(n).toBe(2);
  });
});

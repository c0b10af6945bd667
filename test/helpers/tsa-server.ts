/**
 * A real RFC 3161 timestamp authority on 127.0.0.1 for tests: a throwaway CA and a TSA certificate made with
 * `openssl` (extendedKeyUsage critical timeStamping), an `openssl ts` configuration, and a node:http server
 * that runs `openssl ts -reply` on each query it receives. Written behaviour besides answering honestly
 * (`mode`): `reject` answers status rejection (2) with a status string; `wrong-nonce` has openssl sign a token
 * for a query whose nonce was changed; `http-500` answers an HTTP error.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';

const run = promisify(execFile);

export type TsaMode = 'ok' | 'reject' | 'wrong-nonce' | 'http-500';

export interface TestTsa {
  readonly url: string;
  /** The throwaway root CA (PEM file): the trust anchor for `--tsa-ca` and `openssl ts -verify -CAfile`. */
  readonly caFile: string;
  /** The TSA's own certificate (PEM file). */
  readonly tsaCertFile: string;
  /** Queries answered so far. */
  readonly requests: () => number;
  /** Changes how the next queries are answered. */
  setMode(mode: TsaMode): void;
  close(): Promise<void>;
}

/** Makes a CA and a TSA certificate under `dir` (EC P-256: fast to make) and the openssl ts configuration. */
export async function makeTsaPki(dir: string, name = 'Amber Test'): Promise<{ caFile: string; caKey: string; tsaCertFile: string; tsaKey: string; config: string }> {
  await mkdir(dir, { recursive: true });
  const p = (f: string): string => join(dir, f);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run('openssl', ['req', '-x509', ...ec, '-keyout', p('ca.key'), '-out', p('ca.pem'), '-days', '3650', '-subj', `/CN=${name} Root CA`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  await run('openssl', ['req', ...ec, '-keyout', p('tsa.key'), '-out', p('tsa.csr'), '-subj', `/CN=${name} TSA`]);
  await writeFile(p('tsa.ext'), 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\n');
  await run('openssl', ['x509', '-req', '-in', p('tsa.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial', '-out', p('tsa.pem'), '-days', '3650', '-extfile', p('tsa.ext')]);
  await writeFile(p('serial'), '01\n');
  await writeFile(
    p('tsa.cnf'),
    `[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
dir = ${dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
certs = $dir/ca.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.55555.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
`,
  );
  return { caFile: p('ca.pem'), caKey: p('ca.key'), tsaCertFile: p('tsa.pem'), tsaKey: p('tsa.key'), config: p('tsa.cnf') };
}

/** Starts the TSA on 127.0.0.1 (an ephemeral port), with its PKI under `dir`. */
export async function startTsa(dir: string, mode: TsaMode = 'ok'): Promise<TestTsa> {
  const pki = await makeTsaPki(dir);
  let current = mode;
  let count = 0;
  let n = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        count += 1;
        if (current === 'http-500') {
          res.writeHead(500).end('internal error');
          return;
        }
        if (current === 'reject') {
          const resp = new pkijs.TimeStampResp({
            status: new pkijs.PKIStatusInfo({ status: pkijs.PKIStatus.rejection, statusStrings: [new asn1js.Utf8String({ value: 'test TSA refuses' })] }),
          });
          res.writeHead(200, { 'content-type': 'application/timestamp-reply' }).end(Buffer.from(resp.toSchema().toBER(false)));
          return;
        }
        let query = Buffer.concat(chunks);
        if (current === 'wrong-nonce') {
          const parsed = pkijs.TimeStampReq.fromBER(query);
          parsed.nonce = new asn1js.Integer({ valueHex: Buffer.from('4242424242424242', 'hex') });
          query = Buffer.from(parsed.toSchema().toBER(false));
        }
        const id = (n += 1);
        const q = join(dir, `q${id}.tsq`);
        const r = join(dir, `r${id}.tsr`);
        await writeFile(q, query);
        await run('openssl', ['ts', '-reply', '-config', pki.config, '-queryfile', q, '-out', r]);
        res.writeHead(200, { 'content-type': 'application/timestamp-reply' }).end(await readFile(r));
      })().catch((error: unknown) => {
        res.writeHead(500).end(String(error));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/tsa`,
    caFile: pki.caFile,
    tsaCertFile: pki.tsaCertFile,
    requests: () => count,
    setMode: (m) => {
      current = m;
    },
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}

/**
 * nock for tests on Node 20: nock 15 intercepts `fetch` and TLS sockets through @mswjs/interceptors, which calls
 * Promise.withResolvers (Node 22). The polyfill (./promise-with-resolvers.ts) is applied before nock is loaded.
 */
import './promise-with-resolvers.ts';

const { default: nock } = await import('nock');
export default nock;

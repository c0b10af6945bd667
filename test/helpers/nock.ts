/**
 * nock for tests on Node 20: nock 15 intercepts `fetch` and TLS sockets through @mswjs/interceptors, which calls
 * Promise.withResolvers (Node 22). The functions run on Node.js 22, where it exists; on the Node 20 this suite also
 * runs on, the standard's own definition is supplied before nock is loaded.
 */
if (typeof (Promise as { withResolvers?: unknown }).withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T>(): { promise: Promise<T>; resolve: (v: T | PromiseLike<T>) => void; reject: (e?: unknown) => void } {
      let resolve!: (v: T | PromiseLike<T>) => void;
      let reject!: (e?: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

const { default: nock } = await import('nock');
export default nock;

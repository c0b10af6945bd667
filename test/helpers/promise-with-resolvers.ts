/**
 * nock 15 (through @mswjs/interceptors) calls Promise.withResolvers, which Node 22 has and Node 20 does not.
 * The functions run on Node 22; tests also run on Node 20, so the method is supplied here when missing.
 */
const P = Promise as unknown as { withResolvers?: <T>() => { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } };
P.withResolvers ??= <T>() => {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};

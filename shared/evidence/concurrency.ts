/** Runs `worker` over an async iterable with at most `limit` calls in flight, in arrival order of results. */
export async function forEachConcurrent<T>(items: AsyncIterable<T> | Iterable<T>, limit: number, worker: (item: T) => Promise<void>): Promise<void> {
  const iterator = Symbol.asyncIterator in items ? items[Symbol.asyncIterator]() : toAsync(items as Iterable<T>);
  // Async generators queue concurrent next() calls, so the runners can share one iterator.
  const runner = async (): Promise<void> => {
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      await worker(next.value);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, limit) }, runner));
}

async function* toAsync<T>(items: Iterable<T>): AsyncGenerator<T> {
  yield* items;
}

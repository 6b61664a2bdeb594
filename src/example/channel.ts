/**
 * A push-based async iterator: producers `push`, graphql-js pulls, and
 * `return()` (sent when a client completes) stops the producer at once.
 * Written by hand because an async generator's `return()` waits for its
 * pending `await`, which would keep an idle subscription's timer alive.
 */
export function channel<T>(start: (push: (value: T) => void, end: () => void) => () => void): AsyncIterableIterator<T> {
  const queue: T[] = [];
  const waiting: ((r: IteratorResult<T>) => void)[] = [];
  let done = false;
  let stop: (() => void) | undefined;
  const finish = () => {
    if (done) return;
    done = true;
    stop?.();
    for (const resolve of waiting.splice(0)) resolve({ value: undefined, done: true });
  };
  const push = (value: T) => {
    if (done) return;
    const resolve = waiting.shift();
    if (resolve) resolve({ value, done: false });
    else queue.push(value);
  };
  stop = start(push, finish);
  if (done) stop();
  return {
    next() {
      if (queue.length > 0) return Promise.resolve({ value: queue.shift() as T, done: false });
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => waiting.push(resolve));
    },
    return() {
      finish();
      return Promise.resolve({ value: undefined, done: true });
    },
    throw(err) {
      finish();
      return Promise.reject(err);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

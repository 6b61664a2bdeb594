/**
 * A body read into one buffer up to a byte bound, for request bodies and
 * fetched bundles. By hand because `arrayBuffer()` and `text()` read the whole
 * body before anyone can count it.
 */

/**
 * Reads `body` whole, or stops (cancelling the rest) once it passes `maxBytes`
 * and answers `undefined`. A failed read throws the stream's error.
 */
export async function readBounded(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<Uint8Array | undefined> {
  if (!body) return new Uint8Array();
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

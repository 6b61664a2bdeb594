/**
 * `POST /graphql` with a JSON body (GraphQL over HTTP's request shape, what
 * graphql-sse clients send): for variables too large for a URL, and for
 * clients that send the document text. The body is read up to a limit.
 */
import { SubwayError, badInput } from '../errors.ts';
import { checkJsonDepth, type RequestSizeLimits } from '../limits/request-size.ts';
import { readBounded } from './read-bounded.ts';
import { readOperationFields, type OperationRequest, type RequestFields } from './params.ts';

function isJson(contentType: string | null): boolean {
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  return type === 'application/json' || type === 'application/graphql-response+json';
}

/** Reads at most `maxBytes` of the body; throws 413 beyond, without reading the rest. */
async function readLimited(request: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get('content-length') ?? NaN);
  const tooLarge = () => new SubwayError('PAYLOAD_TOO_LARGE', 413, `The request body is over the limit of ${maxBytes} bytes.`);
  if (declared > maxBytes) throw tooLarge();
  let bytes: Uint8Array | undefined;
  try {
    bytes = await readBounded(request.body, maxBytes);
  } catch {
    // The client went away, or its body was cut off (the runtime's body time-out): not the gateway's error.
    throw new SubwayError('BAD_REQUEST', 400, 'The request body could not be read in full.');
  }
  if (!bytes) throw tooLarge();
  return bytes;
}

/**
 * Reads the body (up to `maxBytes`) and checks how deeply its JSON nests
 * (`limits.maxVariablesDepth`, below the body's own object) before parsing it.
 */
export async function readPostRequest(request: Request, maxBytes: number, limits: RequestSizeLimits = {}): Promise<OperationRequest> {
  if (!isJson(request.headers.get('content-type'))) {
    throw new SubwayError('UNSUPPORTED_MEDIA_TYPE', 415, 'The request body must be JSON: send "Content-Type: application/json".');
  }
  const bytes = await readLimited(request, maxBytes);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw badInput('The request body is not valid JSON.');
  }
  checkJsonDepth(text, limits, 'The request body', { levelsAbove: 1 });
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw badInput('The request body is not valid JSON.');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badInput('The request body must be a JSON object.');
  return readOperationFields(body as RequestFields);
}

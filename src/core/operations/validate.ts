/**
 * Validates a list of operations whole, before it may replace the one being
 * served: the bundle's shape and format version, its signature (when keys are
 * configured), every id against the SHA-256 of its document's exact bytes,
 * and a registry that builds (documents parse, names are unique, the input
 * schema builds and has every variable's input type). Runtime-neutral.
 */
import { checkBundle, fromBundle } from './bundle.ts';
import type { OperationBundle } from './manifest.ts';
import { createRegistry, type Registry, type RegistryOptions } from './registry.ts';
import { sha256Text } from './safelist.ts';
import type { BundleVerifier } from './signature.ts';
import { sourceFailure } from './source.ts';

/** Throws naming the first operation whose id is not the SHA-256 of its body. */
export async function checkIds(bundle: OperationBundle, source: string): Promise<void> {
  for (const op of bundle.manifest.operations) {
    const hash = await sha256Text(op.body);
    if (hash !== op.id) throw sourceFailure('invalid', `${source}: operation ${op.name} has the id ${op.id}, but its document hashes to ${hash}`);
  }
}

/** A registry of validated operations; every message names `source`. */
export async function validateOperations(bundle: OperationBundle, source: string, options: RegistryOptions = {}): Promise<Registry> {
  await checkIds(bundle, source);
  try {
    return createRegistry(bundle, options);
  } catch (err) {
    throw sourceFailure('invalid', `${source}: ${(err as Error).message}`, err);
  }
}

/** Parses, verifies and validates a bundle's text. */
export async function registryFromBundleText(text: string, source: string, verifier: BundleVerifier): Promise<Registry> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw sourceFailure('invalid', `${source}: not JSON (${(err as Error).message})`);
  }
  let bundle;
  try {
    bundle = checkBundle(value, source);
  } catch (err) {
    throw sourceFailure('invalid', (err as Error).message);
  }
  // Before any costly work: an unsigned or forged bundle costs one signature check.
  await verifier.verify(value as object, source);
  return validateOperations(fromBundle(bundle), source);
}

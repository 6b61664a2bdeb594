/**
 * The modules wrangler's `[alias]` maps to the generated operation files
 * (see wrangler.toml). Their shape is checked when the Worker starts.
 */
declare module 'subway-manifest' {
  const manifest: unknown;
  export default manifest;
}
declare module 'subway-companion' {
  const companion: unknown;
  export default companion;
}

/** Vitest global setup: Chromium must be there before any browser test starts (installing it outlasts a hook's time-out). */
import { ensureChromium } from './chromium.ts';

export default function setup(): void {
  ensureChromium();
}

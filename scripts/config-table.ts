/** Prints the README's configuration table from src/config.ts (`npm run docs:config`). */
import { settingsTable } from '../src/config.ts';

console.log(settingsTable());

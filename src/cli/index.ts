/**
 * The CLI component's public surface: `main(argv)`, what bin/ordo.js runs. Each command lives in its
 * own module and is loaded only when it runs (main.ts).
 */
export { main, USAGE } from './main.ts';

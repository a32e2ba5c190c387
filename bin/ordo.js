#!/usr/bin/env node
// The `ordo` command. Source is TypeScript run by Node >= 22.18's type stripping (no build step).
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(
    `ordo needs Node >= 22.18 (found ${process.versions.node}). Run it through npm (npm start / npm run ordo -- ...) ` +
      'which uses the Node 24 installed in node_modules, or install Node 24.\n',
  );
  process.exit(1);
}
// Node's on-disk compile cache (in the OS temp dir, or NODE_COMPILE_CACHE): a restarted node loads its
// modules with ~20 % less CPU (ADR 0185). ORDO_COMPILE_CACHE=0 turns it off.
if (process.env.ORDO_COMPILE_CACHE !== '0') (await import('node:module')).enableCompileCache?.();
const { main } = await import('../src/cli/index.ts');
process.exitCode = await main(process.argv.slice(2));
// A command has finished (a node or testnet stopped everything it started). The process should now
// exit by itself; if a library keeps a handle open (a keep-alive socket, a timer), exit anyway after a
// grace period instead of hanging. The timer is unref'd, so it never delays a normal exit.
setTimeout(() => {
  if (process.env.ORDO_DEBUG)
    process.stderr.write(`exit forced; open: ${process.getActiveResourcesInfo().join(', ')}\n`);
  process.exit();
}, 2000).unref();

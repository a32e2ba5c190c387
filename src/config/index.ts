/**
 * The config component's public surface: the node config file (config.ts, validated per section),
 * the genesis file and the rollup registry (genesis.ts, genesis-types.ts), their typed errors
 * (schema-error.ts), and the deterministic demo accounts that devnet geneses fund (demo-accounts.ts).
 */
export * from './against-genesis.ts';
export * from './config.ts';
export * from './demo-accounts.ts';
export * from './genesis.ts';
export type * from './genesis-types.ts';
export * from './reference.ts';
export * from './schema-error.ts';

/** The gRPC per-client stream cap keys clients by IP address, whatever form grpc-js gives the peer in. */
import { describe, expect, it } from 'vitest';
import { clientAddress } from '../../../src/rollup-adapter/server.ts';

describe('clientAddress', () => {
  it('drops the port from every peer form', () => {
    expect(clientAddress('127.0.0.1:54321')).toBe('127.0.0.1');
    expect(clientAddress('::1:54321')).toBe('::1');
    expect(clientAddress('ipv4:10.1.2.3:80')).toBe('10.1.2.3');
    expect(clientAddress('ipv6:[2001:db8::1]:443')).toBe('2001:db8::1');
    expect(clientAddress('unknown')).toBe('unknown');
  });
});

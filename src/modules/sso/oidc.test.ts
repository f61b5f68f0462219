import { describe, expect, it } from 'vitest';
import { issuerProblem } from './oidc.js';

describe('issuer URLs', () => {
  it('accepts https, and http only on a loopback host', () => {
    expect(issuerProblem('https://login.example.com/realms/acme')).toBeNull();
    expect(issuerProblem('https://tenant.auth0.com/')).toBeNull();
    expect(issuerProblem('http://127.0.0.1:8080')).toBeNull();
    expect(issuerProblem('http://localhost:8080/realms/dev')).toBeNull();
    expect(issuerProblem('http://[::1]:9000')).toBeNull();
  });

  it('refuses plain http elsewhere, other schemes, queries and non-URLs', () => {
    expect(issuerProblem('http://idp.example.com')).toMatch(/https/);
    expect(issuerProblem('http://127.0.0.1.evil.test')).toMatch(/https/);
    expect(issuerProblem('ftp://idp.example.com')).toMatch(/https/);
    expect(issuerProblem('https://idp.example.com/?a=1')).toMatch(/query/);
    expect(issuerProblem('not a url')).toMatch(/not a URL/);
  });
});

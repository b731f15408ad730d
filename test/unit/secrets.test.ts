import { describe, expect, it } from 'vitest';
import { maskUrl, redact, redactDeep, registerSecret } from '../../src/secrets.js';

describe('secrets', () => {
  it('masks the password of postgres URLs, even unregistered ones', () => {
    expect(redact('failed: postgresql://postgres:hunter2xyz@db.abc.example.invalid:5432/postgres')).toBe(
      'failed: postgresql://postgres:****@db.abc.example.invalid:5432/postgres',
    );
    expect(maskUrl('postgres://u:p%40ss@h:6543/db?sslmode=require')).toBe('postgres://u:****@h:6543/db?sslmode=require');
    expect(maskUrl('postgresql://u@h/db')).toBe('postgresql://u@h/db');
  });

  it('masks keyword/value passwords and registered secrets inside nested data', () => {
    registerSecret('jwt-secret-value-123');
    expect(redact("host=h password='a b c' user=u")).toBe('host=h password=**** user=u');
    expect(redactDeep({ a: ['token jwt-secret-value-123'], b: { c: 'jwt-secret-value-123' } })).toEqual({
      a: ['token ****'],
      b: { c: '****' },
    });
  });
});

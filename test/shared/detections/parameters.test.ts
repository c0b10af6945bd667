import { describe, expect, it } from 'vitest';
import { loadCatalogue } from '../../../shared/detections/catalogue.ts';
import { bindParameters, parseParameterDeclarations, parseParameterOverrides, sqlLiteral, withParameters, type DetectionParameter } from '../../../shared/detections/parameters.ts';
import { DuckDbQueryEngine } from '../../../shared/query/duckdb-engine.ts';

const p = (type: DetectionParameter['type'], extra: Partial<DetectionParameter> = {}): DetectionParameter => ({ name: 'x', type, default: type === 'string' ? 'a' : type === 'duration' ? 'PT1M' : 1, description: 'test', ...extra });

describe('Function: sqlLiteral', () => {
  it('writes each type as an inert literal of that type', () => {
    expect(sqlLiteral(p('int'), '42')).toBe('42');
    expect(sqlLiteral(p('number'), '0.75')).toBe('0.75');
    expect(sqlLiteral(p('duration'), 'PT10M')).toBe('600');
    expect(sqlLiteral(p('duration'), 'P1DT1H')).toBe('90000');
    expect(sqlLiteral(p('string'), "o'brien")).toBe("'o''brien'");
  });

  it('refuses values that are not of the type, whatever they hold', () => {
    for (const bad of ['1 OR 1=1', '1;DROP TABLE x', '1e9', '0x10', ' 1', '']) expect(() => sqlLiteral(p('int'), bad), bad).toThrow(/not a valid int/);
    for (const bad of ['0.7)', '.5', 'NaN', 'Infinity']) expect(() => sqlLiteral(p('number'), bad), bad).toThrow(/not a valid number/);
    for (const bad of ['10m', 'P', 'PT', "PT1M'"]) expect(() => sqlLiteral(p('duration'), bad), bad).toThrow(/not a valid duration/);
    expect(() => sqlLiteral(p('string'), 'a\nb')).toThrow(/control characters/);
    expect(() => sqlLiteral(p('int', { min: 1, max: 9 }), '10')).toThrow(/at most 9/);
  });

  it('keeps a hostile string a string when DuckDB runs it (no injection)', async () => {
    const engine = await DuckDbQueryEngine.create();
    try {
      const param = p('string');
      for (const hostile of ["' OR 1=1 --", "x'); DROP TABLE t; --", "\\' OR '1'='1", "''", "a\\"]) {
        const sql = bindParameters('SELECT {{x}} AS v', [param], { x: hostile }, 'test');
        expect(await engine.query(sql), hostile).toEqual([{ v: hostile }]);
      }
    } finally {
      await engine.close();
    }
  });
});

describe('Function: bindParameters', () => {
  it('refuses an undeclared placeholder and an unused declaration', () => {
    expect(() => bindParameters('SELECT {{y}}', [p('int')], {}, 'q.sql')).toThrow(/placeholder \{\{y\}\} names no declared parameter/);
    expect(() => bindParameters('SELECT 1', [p('int')], {}, 'q.sql')).toThrow(/declared but query.sql never uses/);
  });

  it('reads declarations and refuses a bad type or default, naming the file', () => {
    expect(parseParameterDeclarations({ b: { type: 'int', default: 2, description: 'd' }, a: { type: 'number', default: 0.5, description: 'd' } }, 'f.yml').map((x) => x.name)).toEqual(['a', 'b']);
    expect(() => parseParameterDeclarations({ a: { type: 'float', default: 1, description: 'd' } }, 'f.yml')).toThrow(/f\.yml: parameter "a" has type "float"/);
    expect(() => parseParameterDeclarations({ a: { type: 'int', default: 'ten', description: 'd' } }, 'f.yml')).toThrow(/default that is not valid/);
  });
});

describe('Catalogue parameters', () => {
  it('build each parameterised detection\'s SQL from its defaults, and an override changes only that value', async () => {
    const catalogue = await loadCatalogue();
    const withParams = catalogue.filter((d) => d.parameters);
    expect(withParams.map((d) => d.id)).toEqual(['access-denied-burst', 'console-login-failure-burst', 'instance-role-discovery', 'inventory-gcp-image-shared', 'inventory-gcp-sa-key-old-or-unexpiring', 's3-large-download', 's3-ransomware-activity', 'secrets-bulk-retrieval', 'vpc-beaconing']);
    for (const d of withParams) {
      expect(d.sql, d.id).not.toMatch(/\{\{/);
      expect(d.template, d.id).toMatch(/\{\{/);
    }
    const s3 = catalogue.find((d) => d.id === 's3-large-download')!;
    expect(s3.sql).toContain('HAVING sum(bytes_out) > 1073741824');
    const raised = withParameters(s3, parseParameterOverrides(['s3-large-download.min_bytes=5'], catalogue));
    expect(raised.sql).toContain('HAVING sum(bytes_out) > 5');
    expect(raised.sql.replace('> 5', '> 1073741824')).toBe(s3.sql);
    expect(raised.parameterValues).toEqual({ min_bytes: '5' });
  });
});

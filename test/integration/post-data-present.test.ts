/**
 * copy --resume replays post-data from its start and skips what the target already has: each kind
 * of post-data statement pg_dump writes is looked up in a real target's catalog, absent before it
 * runs and present after, on the right table only, with names that no regular expression survives.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { withClient } from '../../src/db/connect.js';
import { alreadyOnTarget } from '../../src/core/move/post-data-present.js';
import { emptyTargetDatabase, type TestDatabase } from '../bed/databases.js';

const made: TestDatabase[] = [];
afterAll(async () => {
  await Promise.all(made.map((d) => d.drop()));
});

const T = '"odd schema"."Tab;le ""x"""';
const SETUP = `
CREATE SCHEMA "odd schema";
CREATE TABLE ${T} (a int NOT NULL, b int);
CREATE TABLE "odd schema"."other" (a int NOT NULL, b int, CONSTRAINT "c_b" CHECK (b > 0));
CREATE TABLE "odd schema"."p" (k int NOT NULL) PARTITION BY RANGE (k);
CREATE TABLE "odd schema"."p1" PARTITION OF "odd schema"."p" FOR VALUES FROM (0) TO (10);
CREATE FUNCTION "odd schema"."f"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE INDEX "p_k" ON ONLY "odd schema"."p" USING btree ("k");
CREATE INDEX "p1_k" ON "odd schema"."p1" USING btree ("k");`;

// In replay order; each is absent until it runs.
const STATEMENTS = [
  `CREATE UNIQUE INDEX "t_pkey" ON ${T} USING btree ("a");`,
  `ALTER TABLE ONLY ${T} ADD CONSTRAINT "t_pkey" PRIMARY KEY USING INDEX "t_pkey";`,
  // Same name as a CHECK constraint of another table: only this table's counts.
  `ALTER TABLE ONLY ${T} ADD CONSTRAINT "c_b" CHECK (b > 0);`,
  `ALTER TABLE ONLY "odd schema"."other" ADD CONSTRAINT "other_fk;" FOREIGN KEY ("a") REFERENCES ${T}("a");`,
  `CREATE TRIGGER "trg ""1""" BEFORE UPDATE ON ${T} FOR EACH ROW EXECUTE FUNCTION "odd schema"."f"();`,
  `CREATE POLICY "see -- all" ON ${T} FOR SELECT USING (true);`,
  `CREATE RULE "r$$" AS ON DELETE TO ${T} DO INSTEAD NOTHING;`,
  `CREATE STATISTICS "odd schema"."st'ats" ON "a", "b" FROM ${T};`,
  `ALTER INDEX "odd schema"."p_k" ATTACH PARTITION "odd schema"."p1_k";`,
];

describe('post-data objects already on the target', () => {
  it('each kind is absent before it runs and present after', async () => {
    const db = await emptyTargetDatabase();
    made.push(db);
    await withClient(db.url, { role: 'admin' }, async (c) => {
      await c.query(SETUP);
      for (const stmt of STATEMENTS) {
        expect(await alreadyOnTarget(c, stmt), `before: ${stmt}`).toBe(false);
        await c.query(stmt);
        expect(await alreadyOnTarget(c, stmt), `after: ${stmt}`).toBe(true);
      }
      // Statements that create nothing nameable are safe to repeat: never "present".
      for (const stmt of [`COMMENT ON TABLE ${T} IS 'x';`, `ALTER TABLE ${T} CLUSTER ON "t_pkey";`, `ALTER TABLE ONLY ${T} REPLICA IDENTITY USING INDEX "t_pkey";`]) {
        expect(await alreadyOnTarget(c, stmt), stmt).toBe(false);
        await c.query(stmt);
        expect(await alreadyOnTarget(c, stmt), stmt).toBe(false);
      }
    });
  });
});

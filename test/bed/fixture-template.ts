import { withClient } from '../../src/db/connect.js';
import { loadFixture } from '../../src/fixture/load.js';

/** Database on the source server that holds the fixture at scale 1; tests clone it. */
export const FIXTURE_TEMPLATE_DB = 'offramp_fixture_template';

function urlWithDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Build the template once per server (dropped and rebuilt so a fixture change is always picked up). */
export async function prepareFixtureTemplate(adminUrl: string): Promise<void> {
  await withClient(adminUrl, { role: 'admin' }, async (c) => {
    await c.query(`UPDATE pg_database SET datistemplate = false WHERE datname = $1`, [FIXTURE_TEMPLATE_DB]);
    await c.query(`DROP DATABASE IF EXISTS ${FIXTURE_TEMPLATE_DB} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${FIXTURE_TEMPLATE_DB}`);
  });
  await loadFixture(urlWithDatabase(adminUrl, FIXTURE_TEMPLATE_DB), { scale: 1 });
  await withClient(adminUrl, { role: 'admin' }, (c) =>
    c.query(`UPDATE pg_database SET datistemplate = true, datallowconn = true WHERE datname = $1`, [FIXTURE_TEMPLATE_DB]),
  );
}

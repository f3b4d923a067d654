// Copyright 2026 the wal-db authors. MIT license.

/**
 * An HTTP endpoint that logs each POSTed body and acknowledges it only once it is durable.
 *
 * Each request appends its body and then awaits `wal.sync()`. Requests that arrive while a
 * flush is running share the next one (group commit), so a burst of 200 concurrent requests
 * costs a handful of flushes, not 200, and still no request hears "201 Created" before its
 * record is on stable storage. The response carries the record's LSN.
 *
 * | request | response |
 * | --- | --- |
 * | `POST /` with any body | `201` and `{"lsn": <number>}` once the record is durable |
 * | a body over `maxRecordSize` | `413`, nothing logged |
 * | any other method | `405` |
 *
 * Run it with `deno run -A examples/http_server.ts [log-file] [port]` (a temporary log and
 * port 8000 by default), then `curl -d 'hello' http://127.0.0.1:8000/`. Ctrl-C stops it.
 *
 * @module
 */

import { Wal, type WalConfig, WalError } from "../mod.ts";

/** Options for {@linkcode startServer}. */
export interface ServerOptions {
  /** The log file; created when missing. */
  path: string;
  /**
   * The port to listen on; 0 picks a free one.
   *
   * @default {0}
   */
  port?: number;
  /**
   * The address to listen on.
   *
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /** How the log is opened (e.g. `maxRecordSize`); see `WalConfig`. */
  config?: WalConfig;
}

/** A running server and the log it writes. */
export interface WalServer {
  /** The HTTP server. */
  server: Deno.HttpServer<Deno.NetAddr>;
  /** The log; it stays open until {@linkcode WalServer.close}. */
  wal: Wal;
  /** The port the server listens on. */
  port: number;
  /** Stops accepting requests, waits for those in flight, then closes the log. */
  close(): Promise<void>;
}

/** The handler: append, sync, then acknowledge. */
export function logHandler(wal: Wal): (request: Request) => Promise<Response> {
  return async (request) => {
    if (request.method !== "POST") {
      return new Response("only POST is served\n", { status: 405, headers: { allow: "POST" } });
    }
    const body = new Uint8Array(await request.arrayBuffer());
    let lsn: number;
    try {
      lsn = wal.append(body);
    } catch (error) {
      if (error instanceof WalError && error.kind === "record-too-large") {
        return new Response(`${error.message}\n`, { status: 413 });
      }
      throw error;
    }
    // The acknowledgement is the promise: it must not be sent before the record is durable.
    await wal.sync();
    return Response.json({ lsn }, { status: 201 });
  };
}

/**
 * Opens the log at `options.path` and serves it. Requires `--allow-read`, `--allow-write` and
 * `--allow-net` (and `--allow-ffi` for the native flush).
 */
export async function startServer(options: ServerOptions): Promise<WalServer> {
  const wal = Wal.open(options.path, options.config);
  const listening = Promise.withResolvers<Deno.NetAddr>();
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      port: options.port ?? 0,
      hostname: options.hostname ?? "127.0.0.1",
      onListen: (addr) => listening.resolve(addr),
    }, logHandler(wal));
  } catch (error) {
    wal.close();
    throw error;
  }
  const addr = await listening.promise;
  return {
    server,
    wal,
    port: addr.port,
    close: async () => {
      await server.shutdown();
      wal.close();
    },
  };
}

const DEMO_PORT = 8000;

if (import.meta.main) {
  const path = Deno.args[0] ?? `${await Deno.makeTempDir({ prefix: "wal_http_" })}/requests.wal`;
  const port = Number(Deno.args[1] ?? DEMO_PORT);
  const running = await startServer({ path, port });
  console.log(`logging POSTed bodies to ${path}; listening on http://127.0.0.1:${running.port}/`);
  const stop = () => {
    Deno.removeSignalListener("SIGINT", stop);
    running.close().then(() => console.log(`stopped; the log ends at LSN ${running.wal.nextLsn}`));
  };
  Deno.addSignalListener("SIGINT", stop);
}

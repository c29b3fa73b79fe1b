// Node's `jose` (v5): jwtVerify with createLocalJWKSet on the benchmark's tokens,
// as a Node service verifies a bearer token: kid lookup in the JWKS, signature,
// then iss/aud/exp. The key set object is built once; jose caches each imported key.
//
//   node jose_node.mjs DIR ROUND_MS ROUNDS ALG...
//
// Run from the folder where `npm install jose@5` put node_modules (bench/run.sh
// copies it there). Prints one JSON line per ALG: {"alg", "node_jose_ns",
// "node_jose_64_ns"} (median round; the _min twins are the fastest round): one
// verify awaited at a time (latency), then wall time per
// verify with 64 in flight (jose v5 hands the signature check to libuv's thread
// pool, so this uses every core: compare it with the BEAM throughput figures).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createLocalJWKSet, jwtVerify } from "jose";

const [dir, roundMs, rounds, ...algs] = process.argv.slice(2);
const jwks = createLocalJWKSet(JSON.parse(readFileSync(join(dir, "jwks.json"), "utf8")));
const { iss, aud } = JSON.parse(readFileSync(join(dir, "claims.json"), "utf8"));

async function timeRound(token, options, ms, inFlight) {
  const start = process.hrtime.bigint();
  const end = start + BigInt(Math.round(ms * 1e6));
  const batch = Array.from({ length: inFlight });
  let n = 0;
  let t;
  do {
    if (inFlight === 1) {
      for (let i = 0; i < 16; i++) await jwtVerify(token, jwks, options);
      n += 16;
    } else {
      await Promise.all(batch.map(() => jwtVerify(token, jwks, options)));
      n += inFlight;
    }
    t = process.hrtime.bigint();
  } while (t < end);
  return Number(t - start) / n;
}

// [median, fastest round] in ns per verify.
async function measure(token, options, inFlight) {
  await timeRound(token, options, Number(roundMs), inFlight); // warm-up: JIT, key import
  const v = [];
  for (let i = 0; i < Number(rounds); i++) {
    v.push(await timeRound(token, options, Number(roundMs), inFlight));
  }
  v.sort((a, b) => a - b);
  const m = v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  return [Math.round(m * 10) / 10, Math.round(v[0] * 10) / 10];
}

for (const alg of algs) {
  const token = readFileSync(join(dir, `${alg}.jwt`), "utf8").trim();
  const options = { issuer: iss, audience: aud, algorithms: [alg], requiredClaims: ["exp"] };
  await jwtVerify(token, jwks, options); // throws when it does not verify
  const [latency, latencyMin] = await measure(token, options, 1);
  const [inFlight64, inFlight64Min] = await measure(token, options, 64);
  console.log(
    JSON.stringify({
      alg,
      node_jose_ns: latency,
      node_jose_ns_min: latencyMin,
      node_jose_64_ns: inFlight64,
      node_jose_64_ns_min: inFlight64Min,
    }),
  );
}

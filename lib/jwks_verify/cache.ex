defmodule JwksVerify.Cache do
  @moduledoc """
  A JWKS cache that stays correct and fast while the issuer rotates keys, is slow, or is down.

  Start one per issuer under your supervision tree, then pass its name where
  a key set goes:

      children = [
        {JwksVerify.Cache,
         name: MyApp.Jwks, jwks_uri: "https://issuer.example/.well-known/jwks.json"}
      ]

      JwksVerify.verify(token, MyApp.Jwks, iss: "https://issuer.example/", aud: "my-api")

  Or start it from the issuer alone (OpenID Connect Discovery): it reads the
  issuer's metadata for its `jwks_uri`, and checks `iss` itself:

      {JwksVerify.Cache, name: MyApp.Jwks, issuer: "https://tenant.example.com/"}

      JwksVerify.verify(token, MyApp.Jwks, aud: "my-api")

  The cache process fetches the JWKS over HTTP/1.1 (its own small client on
  `:gen_tcp`/`:ssl`), TLS peer and host name verified against the system CA
  store (`:public_key.cacerts_get/0`), and keeps the parsed key set in ETS. Verification reads ETS in the
  caller's process and never messages the cache, except when a token names a
  `kid` the key set lacks: then the caller asks for a refetch, which all
  concurrent callers share (one HTTP request) and whose answer they get
  inline; such refetches are rate-limited and kids that a refetch did not
  bring are remembered for a while, so a flood of made-up kids cannot become
  a flood of requests to the issuer.

  ## At boot

  `start_link/1` returns at once (unless `:await_first_fetch` is set) and the
  first fetch runs in the background. A verification that finds no key set
  yet while that fetch is under way joins it: all such callers share it (one
  HTTP request), and each gets the verdict on its token once the keys are
  in, or `{:error, :jwks_unavailable}` if the fetch fails, within the fetch's
  `:timeout`. While the cache backs off after a failed fetch, callers get
  `{:error, :jwks_unavailable}` at once and cause no request; the next retry
  is joined the same way. The same holds past the stale ceiling. So a
  service answers its first requests after a deploy, and no 503s.

  Security and fault behaviour:

    * a fresh JWKS replaces the old one at once: keys the issuer removed stop
      verifying (and their kids do not trigger refetches);
    * a failed, malformed (`:bad_json`, ...), oversized or empty JWKS (no
      usable key) never replaces a good one;
    * when refreshes fail the last good key set keeps serving (`:stale`) up to
      `:stale_ceiling`, then verification answers `{:error, :jwks_unavailable}`
      (fail closed) until a fetch succeeds; retries back off exponentially,
      with jitter;
    * the cache starts even when the issuer is down: verification answers
      `{:error, :jwks_unavailable}` until a fetch succeeds (see "At boot");
    * only a 200's body is read, and no further than `:max_body_bytes`; any
      other response (an error page, a redirect, a 304) is answered from its
      headers and its body never read, whatever its size;
    * a key set holding private key material (a JWK carrying `d`, `p`, `q`,
      `k`, ...: refused as `:private_key`) is logged as an error naming the
      kids, never the material: the issuer leaked those keys;
    * a crash of the cache process loses only what it refetches after the
      supervisor restarts it; callers never crash (they get
      `{:error, :jwks_unavailable}` meanwhile);
    * after the NIF library is reloaded (`:code.delete/1`, `:code.purge/1`,
      then a new load), key sets made before are foreign to it: the cache
      builds its key set again from its source (the JSON, the file, or the
      body it last fetched, without a request) the first time a caller
      needs it, unseen by the caller;
    * a name no cache runs under (a typo, a cache not started) answers
      `{:error, :jwks_unavailable}` like an outage, but logs a warning naming
      it, at most once a minute per name, and `status/1` says `:not_running`.

  A failing issuer is logged once as a warning, then as a reminder every five
  minutes; recovery is logged. When the host application has `:telemetry`
  loaded, events go out under `[:jwks_verify, :cache, ...]`: `[:fetch, :start]`,
  `[:fetch, :stop]` (status, bytes, duration, kids added and removed),
  `[:fetch, :exception]` (reason), `[:kid_miss]`, `[:refetch_suppressed]`
  (reason `:rate_limited`, `:negative` or `:unavailable`) and `[:stale_served]`
  (once, when the cache begins serving a key set past its TTL).

  ## Options

  All durations are in milliseconds.

    * `:name` - the name the cache is registered under; also names its ETS
      table (required).
    * `:issuer` - the issuer identifier, exactly as tokens name it in `iss`.
      A cache that knows its issuer requires it: verifying through the cache
      without an `:iss` option checks `iss` against it (an `:iss` option
      still wins), and `issuer/1` answers it. Alone, it also tells the cache
      where its keys are (see "Discovery"); beside `:jwks_uri`, `:jwks` or
      `:jwks_file`, it only names the issuer.
    * `:jwks_uri` - the issuer's JWKS URL, `https://` unless `:allow_http`.
    * `:jwks` - a static JWKS JSON document instead (no HTTP): tests,
      air-gapped deployments.
    * `:jwks_file` - a path to a static JWKS JSON file instead; read at start
      and on `refresh/1`. Exactly one of the three sources, or `:issuer`
      alone, is required; a static one that does not parse or has no usable
      key raises at start.
    * `:allow_http` - accept `http://` URLs (tests, loopback), defaults to `false`.
    * `:ttl` - how long a fetched key set is fresh when the response carries
      no `Cache-Control: max-age` or `Expires`, defaults to `600_000` (10 min).
      A refresh runs in the background at 75-85 % of the TTL, so requests
      never wait for a routine refresh.
    * `:min_ttl`, `:max_ttl` - bounds for a TTL taken from `Cache-Control:
      max-age` (less `Age`) or `Expires`, default `60_000` and `86_400_000`.
      `no-cache` and `no-store` mean `:min_ttl`.
    * `:refetch_interval` - at most one refetch for unknown kids per interval,
      defaults to `30_000`. Kid misses inside the interval answer
      `{:error, :unknown_kid}` at once and queue one refetch at its end.
    * `:negative_ttl` - how long a kid that a refetch did not bring (or that
      the issuer removed) answers `:unknown_kid` without asking for a refetch,
      not even a queued one, defaults to `300_000`, and never longer than
      `:refetch_interval`: a kid probed before the issuer publishes it holds
      back the real rotation no longer than the rate limit would.
    * `:stale_ceiling` - how long after the issuer last confirmed the key set
      it may still serve while refreshes fail, defaults to `86_400_000` (24 h);
      never shorter than the TTL.
    * `:connect_timeout` - defaults to `5_000`.
    * `:timeout` - total time for one fetch, redirects (and the discovery
      document, when read) included, defaults to `10_000`.
    * `:max_body_bytes` - a larger 200 body is refused while being read,
      defaults to `1_048_576` (1 MiB). Bodies of other responses are never
      read.
    * `:max_redirects` - defaults to `3`; a redirect to `http://` is refused
      unless `:allow_http`.
    * `:await_first_fetch` - wait up to this long in `start_link/1` for the
      first key set (the start succeeds either way), defaults to `0`.
      Verifications wait for the first fetch anyway (see "At boot"); this is
      for a start that should not return before the keys are in.
    * `:ssl` - extra `:ssl` client options overriding the defaults key by key,
      for example `cacerts: [der]` for a private CA.
    * `:backoff_initial`, `:backoff_max` - retry delays after failed fetches,
      doubling from the first to the second, half of each delay random;
      default `1_000` and `60_000`.
    * `:token_cache` - `true` or a maximum entry count (`true` means `10_000`)
      to cache verified tokens, defaults to `false`. See "Token cache".

  ## Discovery

  Started with `:issuer` and no other source, the cache reads the issuer's
  metadata: `{issuer}/.well-known/openid-configuration` (OpenID Connect
  Discovery 1.0 §4; a terminating `/` of the issuer is removed before
  appending), or, when that answers a 4xx or something other than a JSON
  object, RFC 8414's `/.well-known/oauth-authorization-server` inserted
  between the host and the issuer's path (RFC 8414 §3.1). The issuer must be
  an `https://` URL (unless `:allow_http`) without query or fragment. The
  document is refused unless its `issuer` equals `:issuer` exactly (OpenID
  Connect Discovery §4.3) and its `jwks_uri` is `https://` (unless
  `:allow_http`); it is fetched under the JWKS's rules (TLS, `:ssl`,
  `:max_body_bytes`, redirects, one `:timeout` for both requests), and read
  by the C core's strict JSON parser. Then the cache fetches the JWKS from that
  `jwks_uri` as a `:jwks_uri` cache does.

  The document is read again with the first key set fetch after its own
  freshness ends (`Cache-Control: max-age` or `Expires`, clamped to
  `:min_ttl`..`:max_ttl`; a day without them) and on `refresh/1`. A failed
  re-read keeps the `jwks_uri` the cache had: the key set keeps being
  refreshed from it and is never dropped for it; the failure is logged,
  shows in `info(name).discovery.last_error`, and is retried after
  `:min_ttl`. Until a first document is accepted, fetches fail with
  `{:discovery, reason}` in `info(name).last_error` (logged like any failed
  fetch), for example `{:discovery, {:issuer_mismatch, "https://other/"}}`,
  `{:discovery, {:insecure_jwks_uri, "http://..."}}`,
  `{:discovery, {:body_too_large, 1_048_576}}` or `{:discovery, :bad_json}`.

  ## Token cache

  With `:token_cache` on, a verified JWT's claims are kept in a protected ETS
  table keyed by the SHA-256 of the whole token (tokens themselves are not
  stored), with the verification options (less `:now`) they were verified
  under, until the token's `exp`; a hit needs the same options. Callers read
  it; only the cache process writes it: a caller that verified a token
  offers it (a message, skipped while the process is busy), and the process
  verifies it again itself before it writes the entry, so no other code in
  the node can plant an entry that makes a token pass. A hit is an ETS
  lookup and a SHA-256 of the token; `mix run bench/token_cache.exs` times it. A repeated token then skips the
  signature check; `exp`, `nbf` and `iat` are checked again on every hit, and
  anything other than a clear pass goes through full verification, so the
  cache can only give an answer full verification would. The table is cleared
  whenever the key set changes, and entries from an older key set are never
  used. Tokens without `exp` are not cached. When full, the table is emptied.

  ## Storage

  The cache owns a named, `:protected` ETS table (`read_concurrency: true`)
  named after the cache, with these rows (records and macros of
  `src/jwks_verify_cache.hrl`, the one description both sides use):

      {:key_set, key_set, expires_at, unusable_at, generation, token_cache}
      {:kid_gate, next_refetch_at, deferred?, in_flight?, call_timeout}
      {{:negative, kid}, until}
      {:issuer, issuer}

  `key_set` is the NIF resource of `JwksVerify.key_set/1`; times are
  `System.monotonic_time(:millisecond)` (`:infinity` for a static source):
  the key set is fresh before `expires_at` and unusable from `unusable_at`;
  `generation` grows with each new key set. The kid gate tells a caller
  whose token names an unknown kid whether it may ask for a refetch (not
  before `next_refetch_at` when one is already queued and none is under
  way) and how long to wait for the answer; a negative kid asks for no
  refetch until `until`. The issuer row is there when the cache was started
  with `:issuer`; it is written once. `token_cache` is `nil` (`:undefined`) or
  `{tid, max_entries}` of a protected table of
  `{token_sha256, opts, generation, exp, nbf, iat, drop_at, claims}`
  (`opts` the prepared options less `:now`; `drop_at` is `exp` plus the
  leeway, when the periodic sweep drops the row).

  The cache process writes every row, in both tables; readers call
  `:ets.lookup/2` themselves. The Erlang module `:jwks_verify_cache` (whose module doc lists
  its parts) is the API this module delegates to.

  ## Health

  `status/1` answers `:fresh`, `:stale` or `:unavailable` from ETS alone, for
  readiness probes, and `:not_running` when no cache of that name runs;
  `info/1` gives the details.
  """

  @typedoc "The name a cache is registered under."
  @type name :: atom()

  @typedoc """
  What `status/1` answers; `:not_running` when no cache of that name runs
  (verification then answers `{:error, :jwks_unavailable}`, as when
  `:unavailable`, and logs a warning at most once a minute).
  """
  @type status :: :fresh | :stale | :unavailable | :not_running

  @typedoc "Cache options, see the moduledoc."
  @type option ::
          {:name, name()}
          | {:issuer, String.t()}
          | {:jwks_uri, String.t()}
          | {:jwks, iodata()}
          | {:jwks_file, Path.t()}
          | {:allow_http, boolean()}
          | {:ttl, pos_integer()}
          | {:min_ttl, non_neg_integer()}
          | {:max_ttl, pos_integer()}
          | {:refetch_interval, non_neg_integer()}
          | {:negative_ttl, non_neg_integer()}
          | {:stale_ceiling, non_neg_integer()}
          | {:connect_timeout, pos_integer()}
          | {:timeout, pos_integer()}
          | {:max_body_bytes, pos_integer()}
          | {:max_redirects, non_neg_integer()}
          | {:await_first_fetch, non_neg_integer()}
          | {:ssl, [:ssl.tls_client_option()]}
          | {:backoff_initial, pos_integer()}
          | {:backoff_max, pos_integer()}
          | {:token_cache, boolean() | pos_integer()}

  @doc """
  A child specification; the id includes the name, so several caches can sit
  side by side under one supervisor.
  """
  @spec child_spec([option()]) :: Supervisor.child_spec()
  def child_spec(opts) when is_list(opts) do
    %{
      id: {__MODULE__, Keyword.get(opts, :name)},
      start: {__MODULE__, :start_link, [opts]},
      type: :worker,
      shutdown: 5_000
    }
  end

  @doc """
  Starts a cache. Raises `ArgumentError` on a missing or bad option (options
  are checked once, here); an issuer that is down does not prevent the start.
  """
  @spec start_link([option()]) :: GenServer.on_start()
  def start_link(opts) when is_list(opts) do
    unless Keyword.keyword?(opts), do: raise(ArgumentError, "options must be a keyword list")

    {name, opts} = Keyword.pop(opts, :name)

    unless is_atom(name) and name not in [nil, true, false] do
      raise ArgumentError, "the :name option (an atom) is required, got: #{inspect(name)}"
    end

    call(fn -> :jwks_verify_cache.start_link(name, Map.new(opts)) end)
  end

  @doc """
  Verifies a JWT against the cache's key set; the same as
  `JwksVerify.verify(token, name, opts)`. Prepare options once with
  `JwksVerify.options/1` when verifying often.
  """
  @spec verify(name(), binary(), keyword() | JwksVerify.prepared_opts()) ::
          {:ok, JwksVerify.claims()} | {:error, JwksVerify.reason()}
  def verify(name, token, opts \\ []) when is_atom(name) do
    JwksVerify.verify(token, name, opts)
  end

  @doc """
  The current key set, for use with `JwksVerify.verify/3` directly, or
  `{:error, :jwks_unavailable}`.
  """
  @spec key_set(name()) :: {:ok, JwksVerify.key_set()} | {:error, :jwks_unavailable}
  def key_set(name) when is_atom(name), do: :jwks_verify_cache.key_set(name)

  @doc """
  The issuer the cache was started with (its `:issuer` option), or `nil`.
  Reads ETS only, so it can pick, for each request, the cache of a token's
  `iss`.
  """
  @spec issuer(name()) :: String.t() | nil
  def issuer(name) when is_atom(name) do
    case :jwks_verify_cache.issuer(name) do
      :undefined -> nil
      issuer -> issuer
    end
  end

  @doc """
  `:fresh` within the TTL; `:stale` past it while refreshes fail (keys still
  verify); `:unavailable` with no key set or past the stale ceiling;
  `:not_running` when no cache of that name runs. Reads ETS only.
  """
  @spec status(name()) :: status()
  def status(name) when is_atom(name), do: :jwks_verify_cache.status(name)

  @doc """
  What the cache knows, as a map: `:status`, `:key_count` (usable keys),
  `:kids`, `:skipped` (refused keys), `:generation`, `:etag`, `:ttl`,
  `:fetched_at` (last time the issuer confirmed the key set), `:last_attempt_at`,
  `:expires_at`, `:unusable_at`, `:next_refresh_at` (times in
  `System.system_time(:millisecond)`, `nil` when unknown), `:consecutive_failures`,
  `:last_error`,
  `:negative_kids`, `:token_cache`, `:counts` (fetches, 304s, failures,
  kid misses, kid-miss fetches, suppressed refetches), `:issuer`, and
  `:discovery`: `nil`, or for a cache started from its issuer
  `:document_uri`, `:jwks_uri` (of the last accepted document),
  `:fetched_at`, `:refresh_at`, `:consecutive_failures` and `:last_error`
  (of reading the document).
  When no cache of that name runs: `%{name: name, running: false, status:
  :not_running}`.
  """
  @spec info(name()) :: map()
  def info(name) when is_atom(name) do
    case nils(:jwks_verify_cache.info(name)) do
      %{discovery: discovery} = info when is_map(discovery) ->
        %{info | discovery: nils(discovery)}

      info ->
        info
    end
  end

  defp nils(map) do
    Map.new(map, fn
      {key, :undefined} -> {key, nil}
      pair -> pair
    end)
  end

  @doc """
  Fetches now (or re-reads `:jwks_file`), bypassing the kid-miss rate limit,
  and waits for the outcome. A failed refresh keeps the current key set.
  """
  @spec refresh(name()) :: :ok | {:error, term()}
  def refresh(name) when is_atom(name), do: :jwks_verify_cache.refresh(name)

  defp call(fun), do: JwksVerify.call(fun)
end

%% @doc A JWKS cache: one process per issuer, its key set in ETS.
%%
%% The process fetches the issuer's JWKS over HTTPS (its own HTTP/1.1 client
%% on `gen_tcp'/`ssl', peer and hostname verified against the system CA
%% store; only a 200's body is read, within `max_body_bytes'), parses it once into a key
%% set (a NIF resource) and stores it in a named, protected ETS table with
%% `read_concurrency'. {@link verify/4} (what `jwks_verify:verify/3' calls
%% when given a cache name) reads the table itself and never messages the
%% process, except when a token's `kid' is not in the key set: then the caller
%% asks for one refetch, which all concurrent callers share (single flight),
%% which is rate-limited, and whose answer comes back inline.
%%
%% At boot, `start_link' returns before the first fetch ends (unless
%% `await_first_fetch'): a verification that finds no usable key set while
%% a fetch is under way joins it (one request however many callers) and
%% gets its verdict once the fetch ends, `{error, jwks_unavailable}' if it
%% failed; while the cache backs off, such callers fail at once and ask for
%% nothing. A name no cache runs under answers `{error, jwks_unavailable}'
%% too and logs a warning (once a minute per name). After a reload of the
%% NIF library the key set is built again from its source when a caller
%% first finds it refused.
%%
%% Faults: a failed, malformed, oversized or empty fetch never replaces a good
%% key set; the last good one keeps serving (stale) up to `stale_ceiling', then
%% the cache fails closed with `{error, jwks_unavailable}'. Retries back off
%% exponentially with jitter. The cache starts even when the issuer is down.
%%
%% == Issuer and discovery ==
%% With the `issuer' option the cache knows its issuer: a verification
%% through it without an `iss' option requires that `iss' (an `iss' option
%% still wins), and {@link issuer/1} answers it. `issuer' beside `jwks_uri',
%% `jwks' or `jwks_file' only names the issuer; `issuer' alone makes the
%% cache read the issuer's metadata (OpenID Connect Discovery 1.0, else
%% RFC 8414) for its `jwks_uri': `{Issuer}/.well-known/openid-configuration'
%% (a terminating "/" of the issuer removed first), else
%% `/.well-known/oauth-authorization-server' inserted between host and path.
%% The document must name exactly the configured issuer and an `https'
%% `jwks_uri' (unless `allow_http'); it is fetched under the JWKS's TLS,
%% size, redirect and time limits, read again
%% after its own freshness
%% (`Cache-Control' or `Expires', else a day) and on {@link refresh/1}. A
%% failed re-read keeps the known `jwks_uri' (and so the key set), and shows
%% in `info' as `discovery => #{last_error => Reason}'; until a first
%% document is accepted, fetches fail with `{discovery, Reason}'.
%%
%% == Storage ==
%% The table is named after the cache and holds these rows (records and
%% macros of `src/jwks_verify_cache.hrl'):
%% ```
%% {key_set, KeySet, ExpiresAt, UnusableAt, Generation, TokenCache}   % #key_set{}
%% {kid_gate, NextRefetchAt, Deferred, InFlight, CallTimeout}        % #kid_gate{}
%% {{negative, Kid}, Until}                                           % ?NEGATIVE(Kid, Until)
%% {issuer, Issuer}                                                   % ?ISSUER(Issuer)
%% '''
%% Times are `erlang:monotonic_time(millisecond)' (`infinity' for a static
%% source): the key set is fresh before `ExpiresAt' and unusable from
%% `UnusableAt'; `Generation' grows with each new key set. The kid gate tells
%% a caller with an unknown kid whether it may ask for a refetch: not before
%% `NextRefetchAt' when one is already queued (`Deferred') and none is under
%% way (`InFlight'); it waits at most `CallTimeout' for the answer. A
%% negative kid asks for no refetch until `Until'. The issuer row is
%% written once at start, when the cache has an `issuer'. `TokenCache' is
%% `undefined' or `{Tid, MaxEntries}' of a protected table (written by the
%% process only, after it verified the token itself) of
%% `{TokenHash, Opts, Generation, Exp, Nbf, Iat, DropAt, Claims}'
%% (`?TOKEN(...)'; `TokenHash' the SHA-256 of the token, `Opts' the prepared
%% options less `now', `DropAt' the exp plus leeway in seconds).
%%
%% The parts: this module is the API; `jwks_verify_cache_server' is the
%% process and its fetch lifecycle, with its state in
%% `jwks_verify_cache_freshness' (the key set's clock) and
%% `jwks_verify_cache_misses' (kid misses, negative kids); it writes every
%% row through `jwks_verify_cache_table', and callers read them in their own
%% process with `jwks_verify_cache_reader'. `jwks_verify_cache_http' fetches
%% (and reads a response's freshness), `jwks_verify_cache_discovery' finds
%% the JWKS URL from the issuer's metadata, `jwks_verify_cache_opts' checks the
%% options, `jwks_verify_cache_report' logs and emits telemetry.
-module(jwks_verify_cache).

%% Starting and stopping
-export([start_link/2, child_spec/1, stop/1]).
%% Verification: readers use ETS only
-export([verify/4, key_set/1, issuer/1]).
%% Health and control
-export([status/1, info/1, refresh/1]).

-export_type([name/0, opts/0, status/0]).

-include("jwks_verify_cache.hrl").

-type name() :: atom().
%% `not_running': no cache of that name runs (verification answers
%% `jwks_unavailable', as when `unavailable').
-type status() :: fresh | stale | unavailable | not_running.
-type opts() :: #{
    issuer => unicode:chardata(),
    jwks_uri => iodata(),
    jwks => iodata(),
    jwks_file => file:filename_all(),
    allow_http => boolean(),
    ttl => pos_integer(),
    min_ttl => non_neg_integer(),
    max_ttl => pos_integer(),
    refetch_interval => non_neg_integer(),
    negative_ttl => non_neg_integer(),
    stale_ceiling => non_neg_integer(),
    connect_timeout => pos_integer(),
    timeout => pos_integer(),
    max_body_bytes => pos_integer(),
    max_redirects => non_neg_integer(),
    await_first_fetch => non_neg_integer(),
    ssl => [ssl:tls_client_option()],
    backoff_initial => pos_integer(),
    backoff_max => pos_integer(),
    token_cache => boolean() | pos_integer()
}.

%%--------------------------------------------------------------------
%% Starting and stopping
%%--------------------------------------------------------------------

%% @doc Starts a cache registered as `Name', which also names its ETS table.
%% Options are checked here: a mistake raises `{badarg, Description}'. A
%% static source (`jwks', `jwks_file') must parse; an issuer that is down
%% does not stop the start. With `await_first_fetch' set, waits up to that
%% many milliseconds for the first key set before returning.
-spec start_link(name(), opts()) -> {ok, pid()} | {error, term()}.
start_link(Name, Opts) when is_atom(Name), Name =/= undefined, is_map(Opts) ->
    Cfg = jwks_verify_cache_opts:config(Opts),
    case gen_server:start_link({local, Name}, jwks_verify_cache_server, {Name, Cfg}, []) of
        {ok, Pid} ->
            await_first(Pid, Cfg#cache_cfg.await_first_fetch),
            {ok, Pid};
        Error ->
            Error
    end;
start_link(Name, Opts) when is_atom(Name), Name =/= undefined ->
    jwks_verify_badarg:bad_argument(options, Opts, "a map");
start_link(Name, _Opts) ->
    jwks_verify_badarg:bad_argument(name, Name, "an atom naming the cache").

await_first(_Pid, 0) ->
    ok;
await_first(Pid, Ms) ->
    _ = (catch gen_server:call(Pid, {await, Ms}, Ms + 5000)),
    ok.

%% @doc A child specification for a supervisor: `Opts' holds `name' and
%% the options of {@link start_link/2}.
-spec child_spec(#{name := name(), atom() => term()}) -> supervisor:child_spec().
child_spec(#{name := Name} = Opts) ->
    #{id => {?MODULE, Name},
      start => {?MODULE, start_link, [Name, maps:remove(name, Opts)]},
      type => worker,
      shutdown => 5000}.

%% @doc Stops a cache (its table goes with it).
-spec stop(name()) -> ok.
stop(Name) ->
    gen_server:stop(Name).

%%--------------------------------------------------------------------
%% Verification
%%--------------------------------------------------------------------

%% @doc Verifies `Token' against the cache's key set, as `jwks_verify:check/4'
%% would with it; called by `jwks_verify:verify/3' and
%% `jwks_verify:verify_jws/3' when given a cache name. Answers
%% `{error, jwks_unavailable}' when there is no usable key set (none fetched
%% yet, older than the stale ceiling, or no cache of that name).
-spec verify(name(), binary(), jwks_verify:prepared_opts(), jwt | jws) ->
    {ok, jwks_verify:claims()} | {ok, {map(), binary()}}
    | {error, jwks_verify:reason() | {unknown_kid, binary()}}.
verify(Name, Token, Opts, Mode) ->
    jwks_verify_cache_reader:verify(Name, Token, Opts, Mode).

%% @doc The current key set, for use with `jwks_verify:verify/3' directly.
-spec key_set(name()) -> {ok, jwks_verify:key_set()} | {error, jwks_unavailable}.
key_set(Name) ->
    jwks_verify_cache_reader:key_set(Name).

%% @doc The issuer the cache was started with (its `issuer' option), or
%% `undefined'. Reads ETS only, so it can route each request's token to the
%% cache of its `iss'.
-spec issuer(name()) -> binary() | undefined.
issuer(Name) ->
    jwks_verify_cache_reader:issuer(Name).

%%--------------------------------------------------------------------
%% Health and control
%%--------------------------------------------------------------------

%% @doc `fresh' within the TTL, `stale' past it while refreshes fail (the
%% keys still verify), `unavailable' with no key set or past the stale
%% ceiling (verification answers `jwks_unavailable'), `not_running' when no
%% cache of that name runs (verification answers `jwks_unavailable' too,
%% and logs a warning at most once a minute). Reads ETS only.
-spec status(name()) -> status().
status(Name) ->
    jwks_verify_cache_reader:status(Name).

%% @doc What the cache knows: status, key count and kids, last fetch,
%% consecutive failures and last error, next refresh, counters. Times are
%% in system time milliseconds (`erlang:system_time(millisecond)'). When no
%% cache of that name runs: `#{name => Name, running => false, status =>
%% not_running}'.
-spec info(name()) -> map().
info(Name) ->
    try
        gen_server:call(Name, info)
    catch
        exit:_ -> #{name => Name, running => false, status => not_running}
    end.

%% @doc Fetches now (or re-reads the file), bypassing the kid-miss rate
%% limit; waits for the outcome. A failed refresh keeps the old key set.
-spec refresh(name()) -> ok | {error, term()}.
refresh(Name) ->
    try
        gen_server:call(Name, refresh, infinity)
    catch
        exit:Reason -> {error, {not_running, Reason}}
    end.

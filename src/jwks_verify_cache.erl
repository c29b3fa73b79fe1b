%% @doc A JWKS cache: one process per issuer, its key set in ETS.
%%
%% The process fetches the issuer's JWKS over HTTPS (OTP `httpc', peer and
%% hostname verified against the system CA store), parses it once into a key
%% set (a NIF resource) and stores it in a named, protected ETS table with
%% `read_concurrency'. {@link verify/4} (what `jwks_verify:verify/3' calls
%% when given a cache name) reads the table itself and never messages the
%% process, except when a token's `kid' is not in the key set: then the caller
%% asks for one refetch, which all concurrent callers share (single flight),
%% which is rate-limited, and whose answer comes back inline.
%%
%% Faults: a failed, malformed, oversized or empty fetch never replaces a good
%% key set; the last good one keeps serving (stale) up to `stale_ceiling', then
%% the cache fails closed with `{error, jwks_unavailable}'. Retries back off
%% exponentially with jitter. The cache starts even when the issuer is down.
%%
%% Storage: the table is named after the cache and holds
%% ```
%% {key_set, KeySet, ExpiresAt, UnusableAt, Generation, TokenCache}
%% {kid_gate, NextRefetchAt, Deferred, InFlight, CallTimeout}
%% {{negative, Kid}, Until}
%% '''
%% with times in `erlang:monotonic_time(millisecond)' (`infinity' for a static
%% source) and `TokenCache' either `undefined' or `{Tid, MaxEntries}' of a
%% public table of `{TokenHash, Opts, Generation, Exp, Nbf, Iat, DropAt, Claims}'
%% (`TokenHash' the SHA-256 of the token, `Opts' the options less `now').
-module(jwks_verify_cache).

-behaviour(gen_server).

-include_lib("kernel/include/logger.hrl").

%% Starting and stopping
-export([start_link/2, child_spec/1, stop/1]).
%% Verification: readers use ETS only
-export([verify/4, key_set/1]).
%% Health and control
-export([status/1, info/1, refresh/1]).
%% gen_server
-export([init/1, handle_call/3, handle_cast/2, handle_info/2]).

-export_type([name/0, opts/0, status/0]).

-include("jwks_verify_opts.hrl").

-type name() :: atom().
-type status() :: fresh | stale | unavailable.
-type opts() :: #{
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

-define(PROFILE, jwks_verify_cache).
-define(USER_AGENT, "jwks_verify").
-define(MAX_KID_BYTES, 1024).
-define(MAX_NEGATIVE, 10000).
-define(MAX_PENDING_KIDS, 1000).
-define(TOKEN_CACHE_DEFAULT, 10000).
-define(SWEEP_MS, 60000).
-define(REMIND_MS, 300000).
%% Absent nbf/iat compare as this (below any int64 claim).
-define(NO_TIME, -(1 bsl 63)).

-record(cfg, {
    source :: {uri, string()} | {json, binary()} | {file, file:filename_all()},
    static :: jwks_verify:key_set() | undefined,
    allow_http = false :: boolean(),
    ttl = 600000 :: pos_integer(),
    min_ttl = 60000 :: non_neg_integer(),
    max_ttl = 86400000 :: pos_integer(),
    refetch_interval = 30000 :: non_neg_integer(),
    negative_ttl = 300000 :: non_neg_integer(),
    stale_ceiling = 86400000 :: non_neg_integer(),
    connect_timeout = 5000 :: pos_integer(),
    timeout = 10000 :: pos_integer(),
    max_body_bytes = 1048576 :: pos_integer(),
    max_redirects = 3 :: non_neg_integer(),
    await_first_fetch = 0 :: non_neg_integer(),
    ssl = [] :: list(),
    backoff_initial = 1000 :: pos_integer(),
    backoff_max = 60000 :: pos_integer(),
    token_cache = 0 :: non_neg_integer()
}).

-record(fetch, {
    pid :: pid(),
    mref :: reference(),
    kind :: initial | refresh | retry | kid_miss | manual,
    started :: integer(),
    waiters = [] :: [{gen_server:from(), binary()}],
    refreshers = [] :: [gen_server:from()]
}).

-record(s, {
    name :: atom(),
    tab :: atom(),
    tokens :: {ets:tid(), pos_integer()} | undefined,
    cfg :: #cfg{},
    %% the key set and what we know of it
    key_set :: jwks_verify:key_set() | undefined,
    kids = #{} :: #{binary() => true},
    usable = 0 :: non_neg_integer(),
    skipped = 0 :: non_neg_integer(),
    body_hash :: binary() | undefined,
    etag :: string() | undefined,
    gen = 0 :: non_neg_integer(),
    ttl :: non_neg_integer() | undefined,
    confirmed_at :: integer() | undefined,
    expires_at :: integer() | infinity | undefined,
    unusable_at :: integer() | infinity | undefined,
    health = unavailable :: status(),
    %% fetching
    fetch :: #fetch{} | undefined,
    fetch_timer :: reference() | undefined,
    next_fetch_at :: integer() | undefined,
    failures = 0 :: non_neg_integer(),
    last_error :: term(),
    last_attempt_at :: integer() | undefined,
    warned_at :: integer() | undefined,
    %% kid misses (monotonic time can be negative: set at start)
    next_kid_fetch :: integer(),
    deferred = false :: boolean(),
    deferred_since :: integer() | undefined,
    deferred_timer :: reference() | undefined,
    pending_kids = #{} :: #{binary() => integer()},
    negatives = #{} :: #{binary() => integer()},
    %% others
    status_timer :: reference() | undefined,
    awaiters = [] :: [{gen_server:from(), reference()}],
    counts = #{} :: #{atom() => non_neg_integer()}
}).

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
    Cfg = config(Opts),
    case gen_server:start_link({local, Name}, ?MODULE, {Name, Cfg}, []) of
        {ok, Pid} ->
            await_first(Pid, Cfg#cfg.await_first_fetch),
            {ok, Pid};
        Error ->
            Error
    end;
start_link(Name, Opts) when is_atom(Name), Name =/= undefined ->
    erlang:error({badarg, {"cache options must be a map, got", Opts}});
start_link(Name, _Opts) ->
    erlang:error({badarg, {"the cache name must be an atom, got", Name}}).

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

%% @doc Verifies `Token' against the cache's key set, as
%% `jwks_verify_nif:verify/4' would with it; called by `jwks_verify:verify/3'
%% and `jwks_verify:verify_jws/3' when given a cache name. Answers
%% `{error, jwks_unavailable}' when there is no usable key set (none fetched
%% yet, older than the stale ceiling, or no cache of that name).
-spec verify(name(), binary(), jwks_verify:prepared_opts(), jwt | jws) ->
    {ok, jwks_verify:claims()} | {ok, {map(), binary()}} | {error, jwks_verify:reason()}.
verify(Name, Token, Opts, Mode) ->
    case lookup(Name) of
        {ok, KeySet, Gen, undefined} ->
            check(Name, Token, Opts, Mode, KeySet, Gen);
        {ok, KeySet, Gen, _Tokens} when Mode =:= jws ->
            check(Name, Token, Opts, Mode, KeySet, Gen);
        {ok, KeySet, Gen, Tokens} ->
            cached_check(Name, Token, Opts, KeySet, Gen, Tokens);
        Error ->
            Error
    end.

%% @doc The current key set, for use with `jwks_verify:verify/3' directly.
-spec key_set(name()) -> {ok, jwks_verify:key_set()} | {error, jwks_unavailable}.
key_set(Name) ->
    case lookup(Name) of
        {ok, KeySet, _Gen, _Tokens} -> {ok, KeySet};
        Error -> Error
    end.

lookup(Name) ->
    try ets:lookup(Name, key_set) of
        [{key_set, KeySet, _ExpiresAt, UnusableAt, Gen, Tokens}] ->
            %% A number is less than any atom, so `infinity' never expires.
            case now_ms() < UnusableAt of
                true -> {ok, KeySet, Gen, Tokens};
                false -> {error, jwks_unavailable}
            end;
        _ ->
            {error, jwks_unavailable}
    catch
        error:badarg -> {error, jwks_unavailable}
    end.

check(Name, Token, Opts, Mode, KeySet, Gen) ->
    case jwks_verify:check(Token, KeySet, Opts, Mode) of
        {error, {unknown_kid, Kid}} -> kid_miss(Name, Kid, Token, Opts, Mode, Gen);
        Result -> Result
    end.

%% The verified-token cache: a hit skips the signature, but never the time
%% claims, which are checked again here. Anything short of a clear pass goes
%% to the NIF, so a cached answer can only ever be one the NIF would give.
%% Entries are keyed by the token's hash alone (cheaper to look up than a
%% key holding the options too); the options, less `now', must match.
cached_check(Name, Token, Opts, KeySet, Gen, {Tab, Max}) ->
    Hash = crypto:hash(sha256, Token),
    Match = Opts#jwks_verify_opts{now = undefined},
    Now = opts_now(Opts),
    Leeway = Opts#jwks_verify_opts.leeway,
    try ets:lookup(Tab, Hash) of
        [{_, Match, Gen, Exp, Nbf, Iat, _, Claims}] when
            Now - Leeway < Exp, Nbf =< Now + Leeway, Iat =< Now + Leeway
        ->
            {ok, Claims};
        _ ->
            case check(Name, Token, Opts, jwt, KeySet, Gen) of
                {ok, Claims} = Ok ->
                    remember(Tab, Max, {Hash, Match}, Gen, Claims, Leeway),
                    Ok;
                Other ->
                    Other
            end
    catch
        error:badarg -> check(Name, Token, Opts, jwt, KeySet, Gen)
    end.

opts_now(#jwks_verify_opts{now = undefined}) -> os:system_time(second);
opts_now(#jwks_verify_opts{now = Now}) -> Now.

%% Tokens without exp are not cached: nothing would bound the entry's life.
remember(Tab, Max, {Hash, Match}, Gen, Claims, Leeway) ->
    case {maps:get(<<"exp">>, Claims, none), time_claim(<<"nbf">>, Claims),
          time_claim(<<"iat">>, Claims)} of
        {Exp, Nbf, Iat} when is_integer(Exp), is_integer(Nbf), is_integer(Iat) ->
            try
                _ = ets:info(Tab, size) >= Max andalso ets:delete_all_objects(Tab),
                ets:insert(Tab, {Hash, Match, Gen, Exp, Nbf, Iat, Exp + Leeway, Claims})
            catch
                error:badarg -> true
            end;
        _ ->
            true
    end.

time_claim(Name, Claims) ->
    case maps:get(Name, Claims, none) of
        none -> ?NO_TIME;
        Value -> Value
    end.

%% Called only on `unknown_kid': ask the cache for a refetch unless the kid is
%% known to be absent or the rate limit is spent and a refetch already queued.
kid_miss(Name, Kid, Token, Opts, Mode, Gen) ->
    case Kid of
        _ when byte_size(Kid) =< ?MAX_KID_BYTES ->
            case ask(Name, Kid, now_ms()) of
                {true, Timeout} ->
                    try gen_server:call(Name, {kid_miss, Kid, Gen}, Timeout) of
                        retry -> retry(Name, Token, Opts, Mode);
                        {error, _} = Error -> Error
                    catch
                        exit:_ -> {error, jwks_unavailable}
                    end;
                {false, Why} ->
                    telemetry([refetch_suppressed], #{count => 1}, #{name => Name, reason => Why}),
                    {error, unknown_kid}
            end;
        _ ->
            {error, unknown_kid}
    end.

ask(Name, Kid, Now) ->
    try ets:lookup(Name, {negative, Kid}) of
        [{_, Until}] when Now < Until ->
            {false, negative};
        _ ->
            case ets:lookup(Name, kid_gate) of
                [{kid_gate, Next, true, false, _}] when Now < Next -> {false, rate_limited};
                [{kid_gate, _, _, _, Timeout}] -> {true, Timeout}
            end
    catch
        error:_ -> {false, unavailable}
    end.

retry(Name, Token, Opts, Mode) ->
    case lookup(Name) of
        {ok, KeySet, _Gen, _Tokens} -> jwks_verify:check(Token, KeySet, Opts, Mode);
        Error -> Error
    end.

%%--------------------------------------------------------------------
%% Health and control
%%--------------------------------------------------------------------

%% @doc `fresh' within the TTL, `stale' past it while refreshes fail (the
%% keys still verify), `unavailable' with no key set or past the stale
%% ceiling (verification answers `jwks_unavailable'). Reads ETS only.
-spec status(name()) -> status().
status(Name) ->
    try ets:lookup(Name, key_set) of
        [{key_set, _, ExpiresAt, UnusableAt, _, _}] -> health(now_ms(), ExpiresAt, UnusableAt);
        _ -> unavailable
    catch
        error:badarg -> unavailable
    end.

%% @doc What the cache knows: status, key count and kids, last fetch,
%% consecutive failures and last error, next refresh, counters. Times are
%% in system time milliseconds (`erlang:system_time(millisecond)').
-spec info(name()) -> map().
info(Name) ->
    try
        gen_server:call(Name, info)
    catch
        exit:_ -> #{name => Name, running => false, status => unavailable}
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

%%--------------------------------------------------------------------
%% gen_server
%%--------------------------------------------------------------------

%% @private
init({Name, Cfg}) ->
    _ = code:ensure_loaded(telemetry),
    try ets:new(Name, [named_table, protected, set, {read_concurrency, true}]) of
        Tab -> {ok, start(#s{name = Name, tab = Tab, cfg = Cfg})}
    catch
        error:badarg -> {stop, {table_name_taken, Name}}
    end.

start(#s{cfg = #cfg{token_cache = Max}} = S0) ->
    Tokens = case Max of
        0 -> undefined;
        _ -> {ets:new(jwks_verify_tokens, [set, public, {read_concurrency, true},
                                            {write_concurrency, true}]), Max}
    end,
    S = S0#s{tokens = Tokens, next_kid_fetch = now_ms()},
    put_gate(S),
    erlang:send_after(?SWEEP_MS, self(), sweep),
    case S#s.cfg of
        #cfg{source = {uri, _}} ->
            ok = ensure_profile(),
            start_fetch(initial, S);
        #cfg{static = KeySet} ->
            install_static(KeySet, S)
    end.

%% @private
handle_call({kid_miss, Kid, Gen}, From, #s{cfg = Cfg} = S0) ->
    Now = now_ms(),
    S = bump(kid_misses, S0),
    telemetry([kid_miss], #{count => 1}, #{name => S#s.name}),
    Remote = element(1, Cfg#cfg.source) =:= uri,
    if
        Gen =/= S#s.gen ->
            %% The key set changed since the caller looked: just try again.
            {reply, retry, S};
        not Remote ->
            {reply, {error, unknown_kid}, S};
        S#s.fetch =/= undefined ->
            %% Single flight: join the fetch under way.
            {noreply, add_waiter(From, Kid, S)};
        true ->
            case negative(Kid, Now, S) of
                true ->
                    {reply, {error, unknown_kid}, S};
                false when Now < S#s.next_kid_fetch ->
                    telemetry([refetch_suppressed], #{count => 1},
                              #{name => S#s.name, reason => rate_limited}),
                    {reply, {error, unknown_kid}, defer(Kid, Now, bump(refetches_suppressed, S))};
                false ->
                    {noreply, add_waiter(From, Kid, kid_fetch(Now, S))}
            end
    end;
handle_call(refresh, From, #s{cfg = #cfg{source = {uri, _}}} = S) ->
    case S#s.fetch of
        undefined ->
            S1 = start_fetch(manual, S),
            {noreply, add_refresher(From, S1)};
        _ ->
            {noreply, add_refresher(From, S)}
    end;
handle_call(refresh, _From, #s{cfg = #cfg{source = {file, Path}}} = S) ->
    case read_static(Path) of
        {ok, KeySet} -> {reply, ok, install_static(KeySet, S)};
        {error, Reason} -> {reply, {error, Reason}, S#s{last_error = Reason}}
    end;
handle_call(refresh, _From, S) ->
    {reply, ok, S};
handle_call({await, Ms}, From, S) ->
    case S#s.key_set of
        undefined ->
            TRef = erlang:start_timer(Ms, self(), {await, From}),
            {noreply, S#s{awaiters = [{From, TRef} | S#s.awaiters]}};
        _ ->
            {reply, ok, S}
    end;
handle_call(info, _From, S) ->
    {reply, info_map(S), S};
handle_call(_Other, _From, S) ->
    {reply, {error, unknown_call}, S}.

%% @private
handle_cast(_Msg, S) ->
    {noreply, S}.

%% @private
handle_info({fetched, Pid, Result}, #s{fetch = #fetch{pid = Pid, mref = MRef}} = S) ->
    erlang:demonitor(MRef, [flush]),
    {noreply, complete(Result, S)};
handle_info({'DOWN', MRef, process, _, Reason}, #s{fetch = #fetch{mref = MRef}} = S) ->
    {noreply, complete({error, {fetch_crashed, Reason}}, S)};
handle_info({timeout, TRef, fetch}, #s{fetch_timer = TRef} = S) ->
    S1 = S#s{fetch_timer = undefined, next_fetch_at = undefined},
    case S1#s.fetch of
        undefined when S1#s.failures > 0 -> {noreply, start_fetch(retry, S1)};
        undefined -> {noreply, start_fetch(refresh, S1)};
        _ -> {noreply, S1}
    end;
handle_info({timeout, TRef, deferred}, #s{deferred_timer = TRef} = S) ->
    {noreply, run_deferred(S#s{deferred_timer = undefined})};
handle_info({timeout, TRef, health}, #s{status_timer = TRef} = S) ->
    {noreply, health_check(S#s{status_timer = undefined})};
handle_info({timeout, TRef, {await, From}}, S) ->
    case lists:keytake(TRef, 2, S#s.awaiters) of
        {value, _, Rest} ->
            gen_server:reply(From, timeout),
            {noreply, S#s{awaiters = Rest}};
        false ->
            {noreply, S}
    end;
handle_info(sweep, S) ->
    erlang:send_after(?SWEEP_MS, self(), sweep),
    {noreply, sweep(S)};
handle_info(_Msg, S) ->
    {noreply, S}.

%%--------------------------------------------------------------------
%% Fetch lifecycle
%%--------------------------------------------------------------------

start_fetch(Kind, #s{cfg = Cfg} = S) ->
    Parent = self(),
    Etag = case S#s.key_set of
        undefined -> undefined;
        _ -> S#s.etag
    end,
    {Pid, MRef} = spawn_monitor(fun() -> Parent ! {fetched, self(), fetch(Cfg, Etag)} end),
    Now = now_ms(),
    telemetry([fetch, start], #{system_time => erlang:system_time()},
              #{name => S#s.name, kind => Kind, uri => uri_binary(Cfg)}),
    S1 = S#s{fetch = #fetch{pid = Pid, mref = MRef, kind = Kind, started = Now},
             last_attempt_at = Now},
    put_gate(bump(fetches, S1)).

kid_fetch(Now, #s{cfg = Cfg} = S) ->
    S1 = S#s{next_kid_fetch = Now + Cfg#cfg.refetch_interval,
             deferred = false, deferred_since = undefined},
    start_fetch(kid_miss, bump(kid_fetches, cancel_deferred(S1))).

add_waiter(From, Kid, #s{fetch = F} = S) ->
    S#s{fetch = F#fetch{waiters = [{From, Kid} | F#fetch.waiters]}}.

add_refresher(From, #s{fetch = F} = S) ->
    S#s{fetch = F#fetch{refreshers = [From | F#fetch.refreshers]}}.

complete(Result, #s{fetch = F, cfg = Cfg} = S0) ->
    Now = now_ms(),
    Duration = erlang:convert_time_unit(Now - F#fetch.started, millisecond, native),
    Meta0 = #{name => S0#s.name, kind => F#fetch.kind, uri => uri_binary(Cfg)},
    S1 = S0#s{fetch = undefined},
    {Reply, S2} =
        case Result of
            {ok, New} ->
                {Change, S} = accept(New, Now, S1),
                telemetry([fetch, stop], #{duration => Duration, bytes => maps:get(bytes, New)},
                          maps:merge(Meta0, Change#{status => 200})),
                {ok, S};
            {not_modified, New} ->
                S = confirm(New, Now, bump(not_modified, S1)),
                telemetry([fetch, stop], #{duration => Duration, bytes => 0},
                          Meta0#{status => 304, kids_added => [], kids_removed => []}),
                {ok, S};
            {error, Reason} ->
                telemetry([fetch, exception], #{duration => Duration}, Meta0#{reason => Reason}),
                {{error, Reason}, failed(Reason, Now, S1)}
        end,
    [gen_server:reply(From, Reply) || From <- F#fetch.refreshers],
    S3 = answer_waiters(F#fetch.waiters, Reply, Now, S2),
    S4 = settle_pending(Reply, F#fetch.started, Now, S3),
    S5 = answer_awaiters(S4),
    S6 = schedule_fetch(Reply, Now, S5),
    put_gate(health_check(S6)).

%% A 200: install, unless the body is the one we have (then it is a 304).
accept(#{hash := Hash} = New, Now, #s{body_hash = Hash, key_set = KS} = S) when KS =/= undefined ->
    {#{kids_added => [], kids_removed => []}, confirm(New, Now, S)};
accept(#{key_set := KeySet, info := Info, hash := Hash} = New, Now, S0) ->
    #{usable := Usable, skipped := Skipped, keys := Keys} = Info,
    Kids = maps:from_list([{Kid, true} || #{kid := Kid} <- Keys, is_binary(Kid)]),
    Added = [K || K <- maps:keys(Kids), not maps:is_key(K, S0#s.kids)],
    Removed = [K || K <- maps:keys(S0#s.kids), not maps:is_key(K, Kids)],
    S1 = S0#s{key_set = KeySet, kids = Kids, usable = Usable, skipped = Skipped,
              body_hash = Hash, gen = S0#s.gen + 1},
    S2 = confirm(New, Now, S1),
    clear_tokens(S2),
    %% Keys the issuer dropped stop verifying now (the row was replaced) and
    %% a token naming one does not trigger a refetch either.
    S3 = lists:foldl(fun(K, Acc) -> add_negative(K, Now, Acc) end,
                     clear_negatives(S2), Removed),
    case S0#s.key_set of
        undefined ->
            ?LOG_INFO("jwks_verify_cache ~p: key set loaded from ~ts: ~b usable keys, kids ~p",
                      [S0#s.name, uri(S3#s.cfg), Usable, maps:keys(Kids)]);
        _ ->
            ?LOG_INFO("jwks_verify_cache ~p: key set changed: added ~p, removed ~p",
                      [S0#s.name, Added, Removed])
    end,
    {#{kids_added => Added, kids_removed => Removed}, S3}.

%% The issuer confirmed our key set (200 or 304): it is fresh again. A 304
%% without caching headers keeps the freshness the 200 had (RFC 9111 §4.3.4).
confirm(New, Now, #s{cfg = Cfg} = S0) ->
    Ttl = case {maps:get(ttl, New), maps:get(status, New), S0#s.ttl} of
        {undefined, 304, Previous} when Previous =/= undefined -> Previous;
        {undefined, _, _} -> Cfg#cfg.ttl;
        {T, _, _} -> T
    end,
    ExpiresAt = Now + Ttl,
    UnusableAt = max(ExpiresAt, Now + Cfg#cfg.stale_ceiling),
    Etag = case maps:get(etag, New, undefined) of
        undefined -> S0#s.etag;
        E -> E
    end,
    recovered(S0),
    S = S0#s{ttl = Ttl, confirmed_at = Now, expires_at = ExpiresAt, unusable_at = UnusableAt,
             etag = Etag, failures = 0, last_error = undefined, warned_at = undefined},
    put_key_set(S),
    S.

recovered(#s{failures = 0}) ->
    ok;
recovered(#s{name = Name, failures = N}) ->
    ?LOG_NOTICE("jwks_verify_cache ~p: fetch succeeded after ~b failed attempts", [Name, N]).

%% One warning when an issuer starts failing, then a reminder every few
%% minutes, not one line per attempt.
failed(Reason, Now, #s{name = Name, failures = N0} = S) ->
    N = N0 + 1,
    Serving = case S#s.key_set of
        undefined -> "no key set yet, verification answers jwks_unavailable";
        _ -> "serving the cached key set"
    end,
    Warned =
        if
            N =:= 1 ->
                ?LOG_WARNING("jwks_verify_cache ~p: fetching ~ts failed: ~0p; ~s; "
                             "retrying with backoff", [Name, uri(S#s.cfg), Reason, Serving]),
                Now;
            Now - S#s.warned_at >= ?REMIND_MS ->
                ?LOG_WARNING("jwks_verify_cache ~p: still failing after ~b attempts, last: ~0p; ~s",
                             [Name, N, Reason, Serving]),
                Now;
            true ->
                ?LOG_DEBUG("jwks_verify_cache ~p: attempt ~b failed: ~0p", [Name, N, Reason]),
                S#s.warned_at
        end,
    bump(failures, S#s{failures = N, last_error = Reason, warned_at = Warned}).

answer_waiters(Waiters, Reply, Now, S) ->
    lists:foldl(
        fun({From, Kid}, Acc) ->
            case {Reply, maps:is_key(Kid, Acc#s.kids)} of
                {_, true} ->
                    gen_server:reply(From, retry),
                    Acc;
                {ok, false} ->
                    gen_server:reply(From, {error, unknown_kid}),
                    add_negative(Kid, Now, Acc);
                {{error, _}, false} ->
                    gen_server:reply(From, {error, unknown_kid}),
                    Acc
            end
        end,
        S, Waiters).

%% Kids whose refetch was deferred: a successful fetch that started after
%% they were seen answers them (absent ones become negative); otherwise the
%% deferred refetch runs when the rate limit allows.
settle_pending(ok, Started, Now, S0) ->
    {Answered, Open} = maps:fold(
        fun(K, SeenAt, {A, O}) when SeenAt =< Started -> {[K | A], O};
           (K, SeenAt, {A, O}) -> {A, O#{K => SeenAt}}
        end,
        {[], #{}}, S0#s.pending_kids),
    S1 = lists:foldl(fun(K, Acc) -> maybe_negative(K, Now, Acc) end,
                     S0#s{pending_kids = Open}, Answered),
    case S1 of
        #s{deferred = true, deferred_since = Since} when Since =< Started ->
            cancel_deferred(S1#s{deferred = false, deferred_since = undefined});
        #s{deferred = true} ->
            run_deferred(S1);
        _ ->
            S1
    end;
settle_pending(_, _, _, #s{deferred = true} = S) ->
    run_deferred(S);
settle_pending(_, _, _, S) ->
    S.

maybe_negative(Kid, Now, S) ->
    case maps:is_key(Kid, S#s.kids) of
        true -> S;
        false -> add_negative(Kid, Now, S)
    end.

defer(Kid, Now, S0) ->
    Pending = case map_size(S0#s.pending_kids) < ?MAX_PENDING_KIDS of
        true -> (S0#s.pending_kids)#{Kid => Now};
        false -> S0#s.pending_kids
    end,
    S = S0#s{pending_kids = Pending},
    case S#s.deferred of
        true ->
            S;
        false ->
            TRef = erlang:start_timer(max(0, S#s.next_kid_fetch - Now), self(), deferred),
            put_gate(S#s{deferred = true, deferred_since = Now, deferred_timer = TRef})
    end.

run_deferred(#s{deferred = false} = S) ->
    S;
run_deferred(#s{fetch = F} = S) when F =/= undefined ->
    S;
run_deferred(S) ->
    Now = now_ms(),
    case Now >= S#s.next_kid_fetch of
        true ->
            kid_fetch(Now, S);
        false ->
            S1 = cancel_deferred(S),
            S1#s{deferred_timer = erlang:start_timer(S#s.next_kid_fetch - Now, self(), deferred)}
    end.

cancel_deferred(#s{deferred_timer = undefined} = S) ->
    S;
cancel_deferred(#s{deferred_timer = TRef} = S) ->
    _ = erlang:cancel_timer(TRef),
    S#s{deferred_timer = undefined}.

answer_awaiters(#s{key_set = undefined} = S) ->
    S;
answer_awaiters(#s{awaiters = Awaiters} = S) ->
    [begin _ = erlang:cancel_timer(TRef), gen_server:reply(From, ok) end
     || {From, TRef} <- Awaiters],
    S#s{awaiters = []}.

%% After a success, refresh ahead of expiry (at 75-85 % of the TTL, spread so
%% that many nodes do not refresh in step); after a failure, back off.
schedule_fetch(Reply, Now, #s{cfg = Cfg} = S0) ->
    S = cancel_fetch_timer(S0),
    Delay = case Reply of
        ok -> max(1, round(S#s.ttl * (0.75 + rand:uniform() * 0.1)));
        {error, _} -> backoff(S#s.failures, Cfg)
    end,
    TRef = erlang:start_timer(Delay, self(), fetch),
    S#s{fetch_timer = TRef, next_fetch_at = Now + Delay}.

%% Exponential, capped, with "equal jitter": half fixed, half random.
backoff(Failures, #cfg{backoff_initial = Initial, backoff_max = Max}) ->
    Base = min(Max, Initial bsl min(Failures - 1, 30)),
    Half = Base div 2,
    Half + rand:uniform(max(1, Base - Half)).

cancel_fetch_timer(#s{fetch_timer = undefined} = S) ->
    S;
cancel_fetch_timer(#s{fetch_timer = TRef} = S) ->
    _ = erlang:cancel_timer(TRef),
    S#s{fetch_timer = undefined, next_fetch_at = undefined}.

%% Logs and reports the moves between fresh, stale and unavailable, and
%% arms a timer for the next one.
health_check(#s{name = Name} = S0) ->
    Now = now_ms(),
    S = case S0#s.status_timer of
        undefined -> S0;
        T -> _ = erlang:cancel_timer(T), S0#s{status_timer = undefined}
    end,
    Health = case S#s.key_set of
        undefined -> unavailable;
        _ -> health(Now, S#s.expires_at, S#s.unusable_at)
    end,
    case {S#s.health, Health} of
        {Same, Same} ->
            ok;
        {_, stale} ->
            telemetry([stale_served], #{count => 1},
                      #{name => Name, age => Now - S#s.confirmed_at}),
            ?LOG_WARNING("jwks_verify_cache ~p: key set past its TTL, serving it stale "
                         "until the stale ceiling (~b ms from now)",
                         [Name, S#s.unusable_at - Now]);
        {_, unavailable} when S#s.key_set =/= undefined ->
            clear_tokens(S),
            ?LOG_ERROR("jwks_verify_cache ~p: key set older than the stale ceiling; "
                       "verification answers jwks_unavailable until a fetch succeeds", [Name]);
        _ ->
            ok
    end,
    Next = case Health of
        fresh -> S#s.expires_at;
        stale -> S#s.unusable_at;
        unavailable -> infinity
    end,
    case Next of
        infinity -> S#s{health = Health};
        _ -> S#s{health = Health,
                 status_timer = erlang:start_timer(max(0, Next - Now), self(), health)}
    end.

health(Now, ExpiresAt, _UnusableAt) when Now < ExpiresAt -> fresh;
health(Now, _ExpiresAt, UnusableAt) when Now < UnusableAt -> stale;
health(_Now, _ExpiresAt, _UnusableAt) -> unavailable.

install_static(KeySet, S0) ->
    #{usable := Usable, skipped := Skipped, keys := Keys} = jwks_verify:key_set_info(KeySet),
    Kids = maps:from_list([{Kid, true} || #{kid := Kid} <- Keys, is_binary(Kid)]),
    S = S0#s{key_set = KeySet, kids = Kids, usable = Usable, skipped = Skipped,
             gen = S0#s.gen + 1, confirmed_at = now_ms(), expires_at = infinity,
             unusable_at = infinity, health = fresh, last_error = undefined},
    put_key_set(S),
    clear_tokens(S),
    clear_negatives(S).

%%--------------------------------------------------------------------
%% ETS rows
%%--------------------------------------------------------------------

put_key_set(#s{tab = Tab} = S) ->
    ets:insert(Tab, {key_set, S#s.key_set, S#s.expires_at, S#s.unusable_at, S#s.gen,
                     S#s.tokens}).

put_gate(#s{tab = Tab, cfg = Cfg} = S) ->
    ets:insert(Tab, {kid_gate, S#s.next_kid_fetch, S#s.deferred, S#s.fetch =/= undefined,
                     Cfg#cfg.timeout + 5000}),
    S.

clear_tokens(#s{tokens = undefined}) -> true;
clear_tokens(#s{tokens = {Tid, _}}) -> ets:delete_all_objects(Tid).

negative(Kid, Now, #s{negatives = Negatives}) ->
    case Negatives of
        #{Kid := Until} -> Now < Until;
        _ -> false
    end.

add_negative(_Kid, _Now, #s{cfg = #cfg{negative_ttl = 0}} = S) ->
    S;
add_negative(Kid, Now, #s{tab = Tab, cfg = Cfg} = S0) ->
    S = case map_size(S0#s.negatives) >= ?MAX_NEGATIVE of
        true -> clear_negatives(S0);
        false -> S0
    end,
    Until = Now + Cfg#cfg.negative_ttl,
    ets:insert(Tab, {{negative, Kid}, Until}),
    S#s{negatives = (S#s.negatives)#{Kid => Until}}.

clear_negatives(#s{tab = Tab} = S) ->
    ets:match_delete(Tab, {{negative, '_'}, '_'}),
    S#s{negatives = #{}}.

sweep(#s{tab = Tab} = S) ->
    Now = now_ms(),
    Expired = maps:keys(maps:filter(fun(_, Until) -> Until =< Now end, S#s.negatives)),
    [ets:delete(Tab, {negative, K}) || K <- Expired],
    case S#s.tokens of
        undefined ->
            ok;
        {Tid, _} ->
            NowSec = os:system_time(second),
            Gen = S#s.gen,
            ets:select_delete(Tid, [{{'_', '_', '$1', '_', '_', '_', '$2', '_'},
                                     [{'orelse', {'=/=', '$1', Gen}, {'<', '$2', NowSec}}],
                                     [true]}])
    end,
    S#s{negatives = maps:without(Expired, S#s.negatives)}.

bump(Counter, #s{counts = Counts} = S) ->
    S#s{counts = Counts#{Counter => maps:get(Counter, Counts, 0) + 1}}.

info_map(#s{cfg = Cfg} = S) ->
    Now = now_ms(),
    Health = case S#s.key_set of
        undefined -> unavailable;
        _ -> health(Now, S#s.expires_at, S#s.unusable_at)
    end,
    Counts = maps:merge(#{fetches => 0, not_modified => 0, failures => 0, kid_misses => 0,
                          kid_fetches => 0, refetches_suppressed => 0}, S#s.counts),
    #{name => S#s.name,
      running => true,
      source => source_info(Cfg),
      status => Health,
      key_count => S#s.usable,
      skipped => S#s.skipped,
      kids => lists:sort(maps:keys(S#s.kids)),
      generation => S#s.gen,
      etag => case S#s.etag of undefined -> undefined; E -> list_to_binary(E) end,
      ttl => S#s.ttl,
      fetched_at => to_system(S#s.confirmed_at),
      last_attempt_at => to_system(S#s.last_attempt_at),
      expires_at => to_system(S#s.expires_at),
      unusable_at => to_system(S#s.unusable_at),
      next_refresh_at => to_system(S#s.next_fetch_at),
      fetching => S#s.fetch =/= undefined,
      consecutive_failures => S#s.failures,
      last_error => S#s.last_error,
      negative_kids => map_size(S#s.negatives),
      token_cache => case S#s.tokens of
                         undefined -> disabled;
                         {Tid, Max} -> #{size => ets:info(Tid, size), max_entries => Max}
                     end,
      counts => Counts}.

source_info(#cfg{source = {uri, Uri}}) -> {uri, list_to_binary(Uri)};
source_info(#cfg{source = {file, Path}}) -> {file, Path};
source_info(#cfg{source = {json, _}}) -> static.

to_system(undefined) -> undefined;
to_system(infinity) -> infinity;
to_system(T) -> T + erlang:time_offset(millisecond).

uri_binary(Cfg) -> unicode:characters_to_binary(uri(Cfg)).

uri(#cfg{source = {uri, Uri}}) -> Uri;
uri(#cfg{source = {file, Path}}) -> Path;
uri(#cfg{source = {json, _}}) -> "static".

now_ms() -> erlang:monotonic_time(millisecond).

await_first(_Pid, 0) ->
    ok;
await_first(Pid, Ms) ->
    _ = (catch gen_server:call(Pid, {await, Ms}, Ms + 5000)),
    ok.

%% telemetry is optional: events go out when the host app has it loaded.
telemetry(Event, Measurements, Meta) ->
    case erlang:function_exported(telemetry, execute, 3) of
        true ->
            try
                telemetry:execute([jwks_verify, cache | Event], Measurements, Meta)
            catch
                _:_ -> ok
            end;
        false ->
            ok
    end.

%%--------------------------------------------------------------------
%% HTTP (runs in a short-lived worker process)
%%--------------------------------------------------------------------

ensure_profile() ->
    {ok, _} = application:ensure_all_started(ssl),
    {ok, _} = application:ensure_all_started(inets),
    case inets:start(httpc, [{profile, ?PROFILE}]) of
        {ok, _} -> ok;
        {error, {already_started, _}} -> ok
    end.

fetch(#cfg{source = {uri, Uri}} = Cfg, Etag) ->
    Deadline = now_ms() + Cfg#cfg.timeout,
    Headers = [{"accept", "application/jwk-set+json, application/json"},
               {"user-agent", ?USER_AGENT}]
              ++ [{"if-none-match", Etag} || Etag =/= undefined],
    try
        http_get(Uri, Headers, Etag =/= undefined, Cfg, Cfg#cfg.max_redirects, Deadline)
    catch
        Class:Reason -> {error, {Class, Reason}}
    end.

http_get(Uri, Headers, Conditional, Cfg, Hops, Deadline) ->
    case request(Uri, Headers, Cfg, Deadline) of
        {ok, 200, RespHeaders, Body} ->
            parse(Body, RespHeaders, Cfg);
        {ok, 304, RespHeaders, _} when Conditional ->
            {not_modified, #{status => 304, ttl => ttl(RespHeaders, Cfg),
                             etag => etag(RespHeaders)}};
        {ok, Status, RespHeaders, _} when
            Status =:= 301; Status =:= 302; Status =:= 303; Status =:= 307; Status =:= 308
        ->
            case proplists:get_value("location", RespHeaders) of
                _ when Hops =:= 0 ->
                    {error, too_many_redirects};
                undefined ->
                    {error, {http_status, Status}};
                Location ->
                    Next = uri_string:resolve(Location, Uri),
                    case allowed_uri(Next, Cfg#cfg.allow_http) of
                        ok -> http_get(Next, Headers, Conditional, Cfg, Hops - 1, Deadline);
                        {error, _} = Error -> Error
                    end
            end;
        {ok, Status, _, _} ->
            {error, {http_status, Status}};
        {error, _} = Error ->
            Error
    end.

request(Uri, Headers, Cfg, Deadline) ->
    case Deadline - now_ms() of
        Left when Left =< 0 ->
            {error, timeout};
        Left ->
            HttpOpts = [{timeout, Left},
                        {connect_timeout, min(Cfg#cfg.connect_timeout, Left)},
                        {autoredirect, false}]
                       ++ [{ssl, ssl_options(Uri, Cfg)} || is_https(Uri)],
            Opts = [{sync, false}, {stream, {self, once}}, {body_format, binary}],
            case httpc:request(get, {Uri, Headers}, HttpOpts, Opts, ?PROFILE) of
                {ok, ReqId} -> response(ReqId, Deadline, Cfg#cfg.max_body_bytes);
                {error, Reason} -> {error, simplify(Reason)}
            end
    end.

%% A 200 streams in, one chunk at a time ({self, once}): the size limit holds
%% while reading, whatever Content-Length says. Other statuses come whole.
response(ReqId, Deadline, Max) ->
    receive
        {http, {ReqId, stream_start, Headers, Pid}} ->
            case content_length(Headers) of
                N when is_integer(N), N > Max ->
                    cancel(ReqId, {body_too_large, Max});
                _ ->
                    ok = httpc:stream_next(Pid),
                    body(ReqId, Pid, Headers, [], 0, Deadline, Max)
            end;
        {http, {ReqId, {{_, Status, _}, Headers, Body}}} ->
            {ok, Status, Headers, Body};
        {http, {ReqId, {error, Reason}}} ->
            {error, simplify(Reason)}
    after max(0, Deadline - now_ms()) ->
        cancel(ReqId, timeout)
    end.

body(ReqId, Pid, Headers, Acc, Size, Deadline, Max) ->
    receive
        {http, {ReqId, stream, Part}} when Size + byte_size(Part) > Max ->
            cancel(ReqId, {body_too_large, Max});
        {http, {ReqId, stream, Part}} ->
            ok = httpc:stream_next(Pid),
            body(ReqId, Pid, Headers, [Acc, Part], Size + byte_size(Part), Deadline, Max);
        {http, {ReqId, stream_end, _Trailers}} ->
            {ok, 200, Headers, iolist_to_binary(Acc)};
        {http, {ReqId, {error, Reason}}} ->
            {error, simplify(Reason)}
    after max(0, Deadline - now_ms()) ->
        cancel(ReqId, timeout)
    end.

cancel(ReqId, Reason) ->
    _ = httpc:cancel_request(ReqId, ?PROFILE),
    {error, Reason}.

content_length(Headers) ->
    try list_to_integer(proplists:get_value("content-length", Headers)) of
        N -> N
    catch
        _:_ -> undefined
    end.

%% Only a usable key set is accepted: malformed, empty or all-refused
%% documents leave the current one in place.
parse(Body, Headers, Cfg) ->
    case jwks_verify:key_set(Body) of
        {ok, KeySet} ->
            case jwks_verify:key_set_info(KeySet) of
                #{usable := 0} ->
                    {error, no_usable_keys};
                Info ->
                    {ok, #{status => 200, key_set => KeySet, info => Info,
                           hash => crypto:hash(sha256, Body), bytes => byte_size(Body),
                           ttl => ttl(Headers, Cfg), etag => etag(Headers)}}
            end;
        {error, Reason} ->
            {error, {bad_jwks, Reason}}
    end.

etag(Headers) ->
    proplists:get_value("etag", Headers).

%% RFC 9111: max-age (less Age) wins over Expires; no-store and no-cache
%% mean "as short as allowed". Clamped to [min_ttl, max_ttl]; undefined when
%% the response says nothing (then the `ttl' option applies).
ttl(Headers, #cfg{min_ttl = Min, max_ttl = Max}) ->
    case header_ttl(Headers) of
        undefined -> undefined;
        Ms -> min(Max, max(Min, Ms))
    end.

header_ttl(Headers) ->
    Directives = [string:trim(D) || D <- string:lexemes(
                                             string:lowercase(
                                               proplists:get_value("cache-control", Headers, "")),
                                             ",")],
    MaxAge = [A || "max-age=" ++ A <- Directives],
    NoCache = lists:member("no-cache", Directives) orelse lists:member("no-store", Directives),
    if
        NoCache ->
            0;
        MaxAge =/= [] ->
            case string:to_integer(string:trim(hd(MaxAge), both, "\"")) of
                {Secs, ""} when Secs >= 0 -> max(0, Secs - age(Headers)) * 1000;
                _ -> 0
            end;
        true ->
            expires_ttl(Headers)
    end.

age(Headers) ->
    case string:to_integer(proplists:get_value("age", Headers, "0")) of
        {Age, ""} when Age >= 0 -> Age;
        _ -> 0
    end.

expires_ttl(Headers) ->
    case proplists:get_value("expires", Headers) of
        undefined ->
            undefined;
        Expires ->
            case httpd_util:convert_request_date(Expires) of
                bad_date ->
                    0;
                ExpiresAt ->
                    Base = case proplists:get_value("date", Headers) of
                        undefined -> calendar:universal_time();
                        Date -> case httpd_util:convert_request_date(Date) of
                                    bad_date -> calendar:universal_time();
                                    D -> D
                                end
                    end,
                    1000 * max(0, calendar:datetime_to_gregorian_seconds(ExpiresAt)
                                  - calendar:datetime_to_gregorian_seconds(Base))
            end
    end.

%% TLS: the peer is verified against the system CA store and the host name
%% checked (wildcards as browsers do); `ssl' options given by the user
%% override these defaults key by key (tests pass their own cacerts).
ssl_options(Uri, #cfg{ssl = User}) ->
    #{host := Host0} = uri_string:parse(Uri),
    Host = string:trim(Host0, both, "[]"),
    Given = fun(K) -> proplists:is_defined(K, User) end,
    CA = case Given(cacerts) orelse Given(cacertfile) of
        true -> [];
        false -> [{cacerts, system_cacerts()}]
    end,
    SNI = case inet:parse_address(Host) of
        {ok, _} -> [];
        _ -> [{server_name_indication, Host}]
    end,
    Defaults = [{verify, verify_peer}, {depth, 4},
                {customize_hostname_check,
                 [{match_fun, public_key:pkix_verify_hostname_match_fun(https)}]}]
               ++ CA ++ SNI,
    User ++ [D || {K, _} = D <- Defaults, not Given(K)].

system_cacerts() ->
    try
        public_key:cacerts_get()
    catch
        _:_ -> []
    end.

is_https(Uri) ->
    string:prefix(string:lowercase(Uri), "https://") =/= nomatch.

allowed_uri(Uri, AllowHttp) ->
    case uri_string:parse(Uri) of
        #{scheme := Scheme, host := Host} when Host =/= "" ->
            case string:lowercase(Scheme) of
                "https" -> ok;
                "http" when AllowHttp -> ok;
                _ -> {error, {insecure_uri, list_to_binary(Uri)}}
            end;
        _ ->
            {error, {bad_uri, list_to_binary(Uri)}}
    end.

%% httpc's connect errors nest the cause; keep what an operator needs.
simplify({failed_connect, Details}) ->
    case [R || {inet, _, R} <- Details] of
        [R | _] -> {connect_failed, R};
        [] -> {connect_failed, Details}
    end;
simplify(Reason) ->
    Reason.

%%--------------------------------------------------------------------
%% Options
%%--------------------------------------------------------------------

-define(KNOWN, [jwks_uri, jwks, jwks_file, allow_http, ttl, min_ttl, max_ttl, refetch_interval,
                negative_ttl, stale_ceiling, connect_timeout, timeout, max_body_bytes,
                max_redirects, await_first_fetch, ssl, backoff_initial, backoff_max,
                token_cache]).

config(Opts) ->
    Cfg = maps:fold(fun option/3, #cfg{}, Opts),
    case Cfg of
        #cfg{source = undefined} ->
            erlang:error({badarg, "one of jwks_uri, jwks or jwks_file is required"});
        #cfg{source = {uri, Uri}, allow_http = AllowHttp} ->
            case allowed_uri(Uri, AllowHttp) of
                ok -> ok;
                {error, {insecure_uri, _}} ->
                    erlang:error({badarg, {"jwks_uri must be https (set allow_http for tests "
                                           "on loopback), got", list_to_binary(Uri)}});
                {error, _} ->
                    erlang:error({badarg, {"jwks_uri is not an absolute URL", list_to_binary(Uri)}})
            end;
        _ ->
            ok
    end,
    Cfg#cfg.max_ttl >= Cfg#cfg.min_ttl orelse
        erlang:error({badarg, {"max_ttl must be >= min_ttl", Cfg#cfg.max_ttl, Cfg#cfg.min_ttl}}),
    Cfg#cfg.backoff_max >= Cfg#cfg.backoff_initial orelse
        erlang:error({badarg, {"backoff_max must be >= backoff_initial", Cfg#cfg.backoff_max,
                               Cfg#cfg.backoff_initial}}),
    Cfg.

option(Key, Value, #cfg{source = Source}) when
    Source =/= undefined, (Key =:= jwks_uri orelse Key =:= jwks orelse Key =:= jwks_file)
->
    erlang:error({badarg, {"give only one of jwks_uri, jwks, jwks_file; got", Key, Value}});
option(jwks_uri, Uri, C) when is_binary(Uri); is_list(Uri) ->
    case unicode:characters_to_list(Uri) of
        L when is_list(L), L =/= [] -> C#cfg{source = {uri, L}};
        _ -> bad(jwks_uri, Uri)
    end;
option(jwks, Json, C) when is_binary(Json); is_list(Json) ->
    case jwks_verify:key_set(Json) of
        {ok, KeySet} ->
            C#cfg{source = {json, iolist_to_binary(Json)}, static = usable(jwks, KeySet)};
        {error, Reason} -> erlang:error({badarg, {"jwks is not a usable JWKS", Reason}})
    end;
option(jwks_file, Path, C) when is_binary(Path); is_list(Path) ->
    case read_static(Path) of
        {ok, KeySet} -> C#cfg{source = {file, Path}, static = KeySet};
        {error, Reason} -> erlang:error({badarg, {"jwks_file can't be used", Path, Reason}})
    end;
option(allow_http, V, C) when is_boolean(V) -> C#cfg{allow_http = V};
option(ttl, V, C) when is_integer(V), V > 0 -> C#cfg{ttl = V};
option(min_ttl, V, C) when is_integer(V), V >= 0 -> C#cfg{min_ttl = V};
option(max_ttl, V, C) when is_integer(V), V > 0 -> C#cfg{max_ttl = V};
option(refetch_interval, V, C) when is_integer(V), V >= 0 -> C#cfg{refetch_interval = V};
option(negative_ttl, V, C) when is_integer(V), V >= 0 -> C#cfg{negative_ttl = V};
option(stale_ceiling, V, C) when is_integer(V), V >= 0 -> C#cfg{stale_ceiling = V};
option(connect_timeout, V, C) when is_integer(V), V > 0 -> C#cfg{connect_timeout = V};
option(timeout, V, C) when is_integer(V), V > 0 -> C#cfg{timeout = V};
option(max_body_bytes, V, C) when is_integer(V), V > 0 -> C#cfg{max_body_bytes = V};
option(max_redirects, V, C) when is_integer(V), V >= 0 -> C#cfg{max_redirects = V};
option(await_first_fetch, V, C) when is_integer(V), V >= 0 -> C#cfg{await_first_fetch = V};
option(ssl, V, C) when is_list(V) -> C#cfg{ssl = V};
option(backoff_initial, V, C) when is_integer(V), V > 0 -> C#cfg{backoff_initial = V};
option(backoff_max, V, C) when is_integer(V), V > 0 -> C#cfg{backoff_max = V};
option(token_cache, false, C) -> C#cfg{token_cache = 0};
option(token_cache, true, C) -> C#cfg{token_cache = ?TOKEN_CACHE_DEFAULT};
option(token_cache, V, C) when is_integer(V), V > 0 -> C#cfg{token_cache = V};
option(Key, Value, _C) ->
    case lists:member(Key, ?KNOWN) of
        true -> bad(Key, Value);
        false -> erlang:error({badarg, {"unknown cache option", Key, {known, ?KNOWN}}})
    end.

bad(Key, Value) ->
    erlang:error({badarg, {"bad value for cache option", Key, Value}}).

usable(Key, KeySet) ->
    case jwks_verify:key_set_info(KeySet) of
        #{usable := 0} -> erlang:error({badarg, {"no usable key in", Key}});
        _ -> KeySet
    end.

read_static(Path) ->
    case file:read_file(Path) of
        {ok, Json} ->
            case jwks_verify:key_set(Json) of
                {ok, KeySet} ->
                    case jwks_verify:key_set_info(KeySet) of
                        #{usable := 0} -> {error, no_usable_keys};
                        _ -> {ok, KeySet}
                    end;
                {error, Reason} ->
                    {error, {bad_jwks, Reason}}
            end;
        {error, Reason} ->
            {error, {file, Reason}}
    end.

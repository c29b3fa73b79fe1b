%% @private
%% @doc The cache process and its fetch lifecycle: the initial fetch, the
%% refresh ahead of expiry, backoff after failures, kid-miss refetches
%% (single flight; when they may run is `jwks_verify_cache_misses''s rule),
%% the fresh/stale/unavailable moves up to the stale ceiling, and `info'.
%% Fetches run in a monitored worker (`jwks_verify_cache_http', after the
%% issuer's metadata in `jwks_verify_cache_discovery' for a cache started
%% from its issuer); each outcome is written to the table for readers.
%%
%% Calls from `jwks_verify_cache_reader': `{kid_miss, Kid, Generation}'
%% (answers `retry' or `{error, unknown_kid}'), `join_fetch' from a caller
%% that found no usable key set (answers `retry' once the fetch under way
%% has brought one, else `{error, jwks_unavailable}'), `{rebuild,
%% Generation}' when the NIF refused the key set (the library was reloaded:
%% it is built again from its source; answers `retry'). Cast
%% `{remember, Token, Opts, Generation}': a token a caller verified, which
%% goes into the token cache once verified here too. From
%% `jwks_verify_cache': `refresh', `info', `{await, Ms}'.
-module(jwks_verify_cache_server).

-behaviour(gen_server).

-export([init/1, handle_call/3, handle_cast/2, handle_info/2]).

-include("jwks_verify_cache.hrl").

-define(SWEEP_MS, 60000).

-record(fetch, {
    pid :: pid(),
    mref :: reference(),
    kind :: initial | refresh | retry | kid_miss | manual,
    started :: integer(),
    waiters = [] :: [{gen_server:from(), binary()}],
    refreshers = [] :: [gen_server:from()],
    %% callers without a key set, waiting for this fetch's outcome
    joiners = [] :: [gen_server:from()]
}).

-record(s, {
    name :: atom(),
    tab :: atom(),
    tokens :: jwks_verify_token_cache(),
    cfg :: #cache_cfg{},
    %% the key set and what we know of it
    key_set :: jwks_verify:key_set() | undefined,
    kids = #{} :: #{binary() => true},
    usable = 0 :: non_neg_integer(),
    skipped = 0 :: non_neg_integer(),
    body_hash :: binary() | undefined,
    %% the JWKS the key set was built from, to build it again after a NIF reload
    body :: binary() | undefined,
    etag :: string() | undefined,
    gen = 0 :: non_neg_integer(),
    freshness = jwks_verify_cache_freshness:new() :: jwks_verify_cache_freshness:freshness(),
    %% fetching
    fetch :: #fetch{} | undefined,
    fetch_timer :: reference() | undefined,
    next_fetch_at :: integer() | undefined,
    failures = 0 :: non_neg_integer(),
    last_error :: term(),
    last_attempt_at :: integer() | undefined,
    warned_at :: integer() | undefined,
    %% kid misses: rate limit, deferred refetch, negative kids
    misses :: jwks_verify_cache_misses:misses() | undefined,
    %% where the JWKS URL comes from when the cache starts from its issuer
    discovery :: jwks_verify_cache_discovery:discovery() | undefined,
    %% others
    awaiters = [] :: [{gen_server:from(), reference()}],
    counts = #{} :: #{atom() => non_neg_integer()}
}).

%%--------------------------------------------------------------------
%% gen_server
%%--------------------------------------------------------------------

-spec init({atom(), #cache_cfg{}}) -> {ok, #s{}} | {stop, {table_name_taken, atom()}}.
init({Name, #cache_cfg{token_cache = Max} = Cfg}) ->
    ok = jwks_verify_cache_report:init(),
    try jwks_verify_cache_table:new(Name, Max) of
        {Tab, Tokens} -> {ok, start(#s{name = Name, tab = Tab, tokens = Tokens, cfg = Cfg})}
    catch
        error:badarg -> {stop, {table_name_taken, Name}}
    end.

start(#s{tab = Tab, cfg = Cfg} = S0) ->
    S = S0#s{misses = jwks_verify_cache_misses:new(Tab, Cfg, ?NOW_MS()),
             discovery = jwks_verify_cache_discovery:new(Cfg)},
    put_gate(S),
    jwks_verify_cache_table:put_issuer(Tab, Cfg#cache_cfg.issuer),
    erlang:send_after(?SWEEP_MS, self(), sweep),
    case S#s.cfg of
        #cache_cfg{source = {Remote, _}} when Remote =:= uri; Remote =:= discovery ->
            ok = jwks_verify_cache_http:ensure_started(),
            start_fetch(initial, S);
        #cache_cfg{static = KeySet} ->
            install_static(KeySet, S)
    end.

-spec handle_call(term(), gen_server:from(), #s{}) ->
    {reply, term(), #s{}} | {noreply, #s{}}.
handle_call({kid_miss, Kid, Gen}, From, #s{cfg = Cfg} = S0) ->
    Now = ?NOW_MS(),
    S = bump(kid_misses, S0),
    telemetry([kid_miss], #{count => 1}, #{name => S#s.name}),
    Remote = lists:member(element(1, Cfg#cache_cfg.source), [uri, discovery]),
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
            case jwks_verify_cache_misses:miss(Kid, Now, S#s.misses) of
                negative ->
                    {reply, {error, unknown_kid}, S};
                {rate_limited, M} ->
                    telemetry([refetch_suppressed], #{count => 1},
                              #{name => S#s.name, reason => rate_limited}),
                    {reply, {error, unknown_kid},
                     put_gate(bump(refetches_suppressed, S#s{misses = M}))};
                fetch ->
                    {noreply, add_waiter(From, Kid, kid_fetch(Now, S))}
            end
    end;
handle_call(join_fetch, From, #s{fetch = #fetch{joiners = Joiners} = F} = S) ->
    {noreply, S#s{fetch = F#fetch{joiners = [From | Joiners]}}};
handle_call(join_fetch, _From, #s{key_set = undefined} = S) ->
    {reply, {error, jwks_unavailable}, S};
handle_call(join_fetch, _From, S) ->
    {reply, retry, S};
handle_call({rebuild, _Gen}, _From, S) ->
    {Reply, S1} = rebuild(S),
    {reply, Reply, S1};
handle_call(refresh, From, #s{cfg = #cache_cfg{source = {Remote, _}}} = S) when
    Remote =:= uri; Remote =:= discovery
->
    case S#s.fetch of
        undefined -> {noreply, add_refresher(From, start_fetch(manual, S))};
        _ -> {noreply, add_refresher(From, S)}
    end;
handle_call(refresh, _From, #s{cfg = #cache_cfg{source = {file, Path}}} = S) ->
    case jwks_verify_cache_opts:read_file(Path) of
        {ok, KeySet} -> {reply, ok, install_static(KeySet, S)};
        {error, Reason} -> {reply, {error, Reason}, S#s{last_error = Reason}}
    end;
handle_call(refresh, _From, #s{cfg = #cache_cfg{source = {json, Json}}} = S) ->
    %% Parsed at start, so it parses: building it again is for a NIF reload.
    {ok, KeySet} = jwks_verify:key_set(Json),
    {reply, ok, install_static(KeySet, S)};
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

-spec handle_cast(term(), #s{}) -> {noreply, #s{}}.
handle_cast({remember, Token, Opts, Gen}, #s{gen = Gen, key_set = KeySet, tokens = Tokens} = S)
  when Tokens =/= undefined, KeySet =/= undefined, is_binary(Token) ->
    %% Only what this process verifies goes in: a message can't plant a claim.
    try jwks_verify:check(Token, KeySet, Opts, jwt) of
        {ok, Claims} -> jwks_verify_cache_table:remember(Tokens, Token, Opts, Gen, Claims);
        _ -> ok
    catch
        _:_ -> ok
    end,
    {noreply, S};
handle_cast(_Msg, S) ->
    {noreply, S}.

-spec handle_info(term(), #s{}) -> {noreply, #s{}}.
handle_info({fetched, Pid, {Result, D}}, #s{fetch = #fetch{pid = Pid, mref = MRef}} = S) ->
    erlang:demonitor(MRef, [flush]),
    {noreply, complete(Result, S#s{discovery = D})};
handle_info({'DOWN', MRef, process, _, Reason}, #s{fetch = #fetch{mref = MRef}} = S) ->
    {noreply, complete({error, {fetch_crashed, Reason}}, S)};
handle_info({timeout, TRef, fetch}, #s{fetch_timer = TRef} = S) ->
    S1 = S#s{fetch_timer = undefined, next_fetch_at = undefined},
    case S1#s.fetch of
        undefined when S1#s.failures > 0 -> {noreply, start_fetch(retry, S1)};
        undefined -> {noreply, start_fetch(refresh, S1)};
        _ -> {noreply, S1}
    end;
handle_info({timeout, TRef, deferred}, #s{misses = M} = S) ->
    case jwks_verify_cache_misses:timer_fired(TRef, M) of
        {ok, M1} -> {noreply, run_deferred(S#s{misses = M1})};
        stale -> {noreply, S}
    end;
handle_info({timeout, TRef, health}, #s{freshness = F} = S) ->
    case jwks_verify_cache_freshness:timer_fired(TRef, F) of
        {ok, F1} -> {noreply, health_check(S#s{freshness = F1})};
        stale -> {noreply, S}
    end;
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
%% Fetches: start, outcome, next one
%%--------------------------------------------------------------------

start_fetch(Kind, #s{cfg = Cfg} = S) ->
    Parent = self(),
    Etag = case S#s.key_set of
        undefined -> undefined;
        _ -> S#s.etag
    end,
    D = S#s.discovery,
    {Pid, MRef} = spawn_monitor(fun() ->
        Parent ! {fetched, self(), jwks_verify_cache_discovery:fetch(Cfg, D, Etag, Kind)}
    end),
    Now = ?NOW_MS(),
    telemetry([fetch, start], #{system_time => erlang:system_time()},
              #{name => S#s.name, kind => Kind, uri => uri_binary(Cfg)}),
    S1 = S#s{fetch = #fetch{pid = Pid, mref = MRef, kind = Kind, started = Now},
             last_attempt_at = Now},
    put_gate(bump(fetches, S1)).

add_refresher(From, #s{fetch = F} = S) ->
    S#s{fetch = F#fetch{refreshers = [From | F#fetch.refreshers]}}.

complete(Result, #s{fetch = F, cfg = Cfg} = S0) ->
    Now = ?NOW_MS(),
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
    Joined = case S2#s.key_set of
        undefined -> {error, jwks_unavailable};
        _ -> retry
    end,
    [gen_server:reply(From, Joined) || From <- F#fetch.joiners],
    S3 = answer_waiters(F#fetch.waiters, Reply, Now, S2),
    M = jwks_verify_cache_misses:settle(Reply, F#fetch.started, Now, S3#s.kids, S3#s.misses),
    S4 = run_deferred(S3#s{misses = M}),
    S5 = answer_awaiters(S4),
    S6 = schedule_fetch(Reply, Now, S5),
    put_gate(health_check(S6)).

%% A 200: install, unless the body is the one we have (then it is a 304).
accept(#{hash := Hash} = New, Now, #s{body_hash = Hash, key_set = KS} = S) when KS =/= undefined ->
    {#{kids_added => [], kids_removed => []}, confirm(New, Now, S)};
accept(#{key_set := KeySet, info := Info, hash := Hash, body := Body} = New, Now, S0) ->
    #{usable := Usable, skipped := Skipped, keys := Keys} = Info,
    jwks_verify_cache_report:private_keys(S0#s.name, uri(S0#s.cfg), Keys),
    Kids = maps:from_list([{Kid, true} || #{kid := Kid} <- Keys, is_binary(Kid)]),
    Added = [K || K <- maps:keys(Kids), not maps:is_key(K, S0#s.kids)],
    Removed = [K || K <- maps:keys(S0#s.kids), not maps:is_key(K, Kids)],
    S1 = S0#s{key_set = KeySet, kids = Kids, usable = Usable, skipped = Skipped,
              body_hash = Hash, body = Body, gen = S0#s.gen + 1},
    S2 = confirm(New, Now, S1),
    jwks_verify_cache_table:clear_tokens(S2#s.tokens),
    %% Keys the issuer dropped stop verifying now (the row was replaced) and
    %% a token naming one does not trigger a refetch either.
    S3 = S2#s{misses = jwks_verify_cache_misses:replaced(Removed, Now, S2#s.misses)},
    case S0#s.key_set of
        undefined ->
            jwks_verify_cache_report:loaded(S0#s.name, uri(S3#s.cfg), Usable, maps:keys(Kids));
        _ ->
            jwks_verify_cache_report:changed(S0#s.name, Added, Removed)
    end,
    {#{kids_added => Added, kids_removed => Removed}, S3}.

%% The issuer confirmed our key set (200 or 304): it is fresh again.
confirm(#{ttl := Ttl, status := Status} = New, Now, #s{cfg = Cfg} = S0) ->
    Freshness = jwks_verify_cache_freshness:confirm(Ttl, Status, Now, Cfg, S0#s.freshness),
    Etag = case maps:get(etag, New, undefined) of
        undefined -> S0#s.etag;
        E -> E
    end,
    jwks_verify_cache_report:recovered(S0#s.name, S0#s.failures),
    S = S0#s{freshness = Freshness, etag = Etag, failures = 0, last_error = undefined,
             warned_at = undefined},
    put_key_set(S),
    S.

failed(Reason, Now, #s{failures = N0} = S) ->
    N = N0 + 1,
    Warned = jwks_verify_cache_report:failed(S#s.name, uri(S#s.cfg), Reason, N,
                                             S#s.key_set =/= undefined, Now, S#s.warned_at),
    bump(failures, S#s{failures = N, last_error = Reason, warned_at = Warned}).

answer_awaiters(#s{key_set = undefined} = S) ->
    S;
answer_awaiters(#s{awaiters = Awaiters} = S) ->
    [begin _ = erlang:cancel_timer(TRef), gen_server:reply(From, ok) end
     || {From, TRef} <- Awaiters],
    S#s{awaiters = []}.

%% After a success, refresh ahead of expiry; after a failure, back off.
schedule_fetch(Reply, Now, #s{cfg = Cfg} = S0) ->
    S = cancel_fetch_timer(S0),
    Delay = case Reply of
        ok -> jwks_verify_cache_freshness:refresh_in(S#s.freshness);
        {error, _} -> backoff(S#s.failures, Cfg)
    end,
    TRef = erlang:start_timer(Delay, self(), fetch),
    S#s{fetch_timer = TRef, next_fetch_at = Now + Delay}.

%% Exponential, capped, with "equal jitter": half fixed, half random.
backoff(Failures, #cache_cfg{backoff_initial = Initial, backoff_max = Max}) ->
    Base = min(Max, Initial bsl min(Failures - 1, 30)),
    Half = Base div 2,
    Half + rand:uniform(max(1, Base - Half)).

cancel_fetch_timer(#s{fetch_timer = undefined} = S) ->
    S;
cancel_fetch_timer(#s{fetch_timer = TRef} = S) ->
    _ = erlang:cancel_timer(TRef),
    S#s{fetch_timer = undefined, next_fetch_at = undefined}.

install_static(KeySet, S0) ->
    #{usable := Usable, skipped := Skipped, keys := Keys} = jwks_verify:key_set_info(KeySet),
    jwks_verify_cache_report:private_keys(S0#s.name, uri(S0#s.cfg), Keys),
    Kids = maps:from_list([{Kid, true} || #{kid := Kid} <- Keys, is_binary(Kid)]),
    S = S0#s{key_set = KeySet, kids = Kids, usable = Usable, skipped = Skipped,
             gen = S0#s.gen + 1, last_error = undefined,
             freshness = jwks_verify_cache_freshness:static(?NOW_MS(), S0#s.freshness)},
    put_key_set(S),
    jwks_verify_cache_table:clear_tokens(S#s.tokens),
    S#s{misses = jwks_verify_cache_misses:clear(S#s.misses)}.

%% After a reload of the NIF library, the key set is a term the new library
%% does not know: build it again from where it came from (the JSON given,
%% the file, or the body of the last fetch, so no request and no wait on the
%% issuer). The same keys: generation, token cache and freshness stay.
rebuild(#s{key_set = undefined} = S) ->
    {{error, jwks_unavailable}, S};
rebuild(#s{key_set = Old, cfg = Cfg} = S) ->
    try jwks_verify:key_set_info(Old) of
        _ -> {retry, S}
    catch
        error:{badarg, _} ->
            jwks_verify_cache_report:rebuilding(S#s.name),
            case Cfg#cache_cfg.source of
                {file, Path} ->
                    %% The file as it is now: a refresh.
                    case jwks_verify_cache_opts:read_file(Path) of
                        {ok, KeySet} -> {retry, install_static(KeySet, S)};
                        {error, Reason} -> {{error, jwks_unavailable}, S#s{last_error = Reason}}
                    end;
                {json, Json} ->
                    {ok, KeySet} = jwks_verify:key_set(Json),
                    {retry, replace_key_set(KeySet, S)};
                {Remote, _} when Remote =:= uri; Remote =:= discovery ->
                    {ok, KeySet} = jwks_verify:key_set(S#s.body),
                    {retry, replace_key_set(KeySet, S)}
            end
    end.

replace_key_set(KeySet, S0) ->
    S = S0#s{key_set = KeySet},
    put_key_set(S),
    S.

%% Reports the moves between fresh, stale and unavailable; an unusable key
%% set takes the verified tokens with it.
health_check(#s{freshness = F0} = S) ->
    HasKeySet = S#s.key_set =/= undefined,
    case jwks_verify_cache_freshness:check(S#s.name, ?NOW_MS(), HasKeySet, F0) of
        {unavailable, F} ->
            jwks_verify_cache_table:clear_tokens(S#s.tokens),
            S#s{freshness = F};
        {ok, F} ->
            S#s{freshness = F}
    end.

%%--------------------------------------------------------------------
%% Kid misses: single flight and the deferred refetch
%%--------------------------------------------------------------------

kid_fetch(Now, #s{misses = M} = S) ->
    S1 = S#s{misses = jwks_verify_cache_misses:fetching(Now, M)},
    start_fetch(kid_miss, bump(kid_fetches, S1)).

add_waiter(From, Kid, #s{fetch = F} = S) ->
    S#s{fetch = F#fetch{waiters = [{From, Kid} | F#fetch.waiters]}}.

answer_waiters(Waiters, Reply, Now, S) ->
    lists:foldl(
        fun({From, Kid}, Acc) ->
            case {Reply, maps:is_key(Kid, Acc#s.kids)} of
                {_, true} ->
                    gen_server:reply(From, retry),
                    Acc;
                {ok, false} ->
                    gen_server:reply(From, {error, unknown_kid}),
                    Acc#s{misses = jwks_verify_cache_misses:absent(Kid, Now, Acc#s.misses)};
                {{error, _}, false} ->
                    gen_server:reply(From, {error, unknown_kid}),
                    Acc
            end
        end,
        S, Waiters).

%% The refetch queued by a rate-limited miss runs once no fetch is under way
%% and the interval is over.
run_deferred(#s{fetch = F} = S) when F =/= undefined ->
    S;
run_deferred(#s{misses = M} = S) ->
    Now = ?NOW_MS(),
    case jwks_verify_cache_misses:due(Now, M) of
        idle -> S;
        fetch -> kid_fetch(Now, S);
        {wait, M1} -> S#s{misses = M1}
    end.

sweep(#s{misses = M} = S) ->
    ok = jwks_verify_cache_table:sweep_tokens(S#s.tokens, S#s.gen, erlang:system_time(second)),
    S#s{misses = jwks_verify_cache_misses:sweep(?NOW_MS(), M)}.

%%--------------------------------------------------------------------
%% Rows for readers, info, helpers
%%--------------------------------------------------------------------

put_key_set(#s{tab = Tab} = S) ->
    {ExpiresAt, UnusableAt} = jwks_verify_cache_freshness:deadlines(S#s.freshness),
    jwks_verify_cache_table:put_key_set(Tab, #key_set{
        key_set = S#s.key_set, expires_at = ExpiresAt, unusable_at = UnusableAt,
        generation = S#s.gen, token_cache = S#s.tokens}).

put_gate(#s{tab = Tab, cfg = Cfg} = S) ->
    {Next, Deferred} = jwks_verify_cache_misses:gate(S#s.misses),
    jwks_verify_cache_table:put_gate(Tab, #kid_gate{
        next_refetch_at = Next, deferred = Deferred, in_flight = S#s.fetch =/= undefined,
        call_timeout = Cfg#cache_cfg.timeout + 5000}),
    S.

info_map(#s{cfg = Cfg} = S) ->
    #{ttl := Ttl, confirmed_at := ConfirmedAt, expires_at := ExpiresAt,
      unusable_at := UnusableAt} = jwks_verify_cache_freshness:times(S#s.freshness),
    Counts = maps:merge(#{fetches => 0, not_modified => 0, failures => 0, kid_misses => 0,
                          kid_fetches => 0, refetches_suppressed => 0}, S#s.counts),
    #{name => S#s.name,
      running => true,
      source => source_info(Cfg),
      status => jwks_verify_cache_freshness:status(?NOW_MS(), S#s.key_set =/= undefined,
                                                   S#s.freshness),
      key_count => S#s.usable,
      skipped => S#s.skipped,
      kids => lists:sort(maps:keys(S#s.kids)),
      generation => S#s.gen,
      etag => case S#s.etag of undefined -> undefined; E -> list_to_binary(E) end,
      ttl => Ttl,
      fetched_at => to_system(ConfirmedAt),
      last_attempt_at => to_system(S#s.last_attempt_at),
      expires_at => to_system(ExpiresAt),
      unusable_at => to_system(UnusableAt),
      next_refresh_at => to_system(S#s.next_fetch_at),
      fetching => S#s.fetch =/= undefined,
      consecutive_failures => S#s.failures,
      last_error => S#s.last_error,
      negative_kids => jwks_verify_cache_misses:negative_count(S#s.misses),
      issuer => Cfg#cache_cfg.issuer,
      discovery => jwks_verify_cache_discovery:info(S#s.discovery),
      token_cache => case S#s.tokens of
                         undefined -> disabled;
                         {Tid, Max} -> #{size => ets:info(Tid, size), max_entries => Max}
                     end,
      counts => Counts}.

source_info(#cache_cfg{source = {uri, Uri}}) -> {uri, list_to_binary(Uri)};
source_info(#cache_cfg{source = {discovery, Issuer}}) ->
    {discovery, unicode:characters_to_binary(Issuer)};
source_info(#cache_cfg{source = {file, Path}}) -> {file, Path};
source_info(#cache_cfg{source = {json, _}}) -> static.

to_system(undefined) -> undefined;
to_system(infinity) -> infinity;
to_system(T) -> T + erlang:time_offset(millisecond).

uri_binary(Cfg) -> unicode:characters_to_binary(uri(Cfg)).

uri(#cache_cfg{source = {uri, Uri}}) -> Uri;
uri(#cache_cfg{source = {discovery, Issuer}}) -> Issuer;
uri(#cache_cfg{source = {file, Path}}) -> Path;
uri(#cache_cfg{source = {json, _}}) -> "static".

bump(Counter, #s{counts = Counts} = S) ->
    S#s{counts = Counts#{Counter => maps:get(Counter, Counts, 0) + 1}}.

telemetry(Event, Measurements, Meta) ->
    jwks_verify_cache_report:telemetry(Event, Measurements, Meta).

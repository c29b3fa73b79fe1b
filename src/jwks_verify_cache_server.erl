%% @private
%% @doc The cache process and its fetch lifecycle: the initial fetch, the
%% refresh ahead of expiry, backoff after failures, the kid-miss refetch
%% (single flight, rate-limited, deferred to the end of the interval), the
%% negative kids, the fresh/stale/unavailable moves up to the stale ceiling,
%% and `info'. Fetches run in a monitored worker (`jwks_verify_cache_http');
%% each outcome is written to the table for readers.
%%
%% Calls: `{kid_miss, Kid, Generation}' from `jwks_verify_cache_reader'
%% (answers `retry' or `{error, unknown_kid}'), `refresh', `info',
%% `{await, Ms}' from `jwks_verify_cache'.
-module(jwks_verify_cache_server).

-behaviour(gen_server).

-export([init/1, handle_call/3, handle_cast/2, handle_info/2]).

-include("jwks_verify_cache.hrl").

-define(MAX_PENDING_KIDS, 1000).
-define(SWEEP_MS, 60000).

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
    tokens :: jwks_verify_token_cache(),
    cfg :: #cache_cfg{},
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
    health = unavailable :: jwks_verify_cache:status(),
    %% fetching
    fetch :: #fetch{} | undefined,
    fetch_timer :: reference() | undefined,
    next_fetch_at :: integer() | undefined,
    failures = 0 :: non_neg_integer(),
    last_error :: term(),
    last_attempt_at :: integer() | undefined,
    warned_at :: integer() | undefined,
    %% kid misses (monotonic time can be negative: set at start)
    next_kid_fetch :: integer() | undefined,
    deferred = false :: boolean(),
    deferred_since :: integer() | undefined,
    deferred_timer :: reference() | undefined,
    pending_kids = #{} :: #{binary() => integer()},
    negatives = #{} :: jwks_verify_cache_table:negatives(),
    %% others
    status_timer :: reference() | undefined,
    awaiters = [] :: [{gen_server:from(), reference()}],
    counts = #{} :: #{atom() => non_neg_integer()}
}).

%%--------------------------------------------------------------------
%% gen_server
%%--------------------------------------------------------------------

%% @private
-spec init({atom(), #cache_cfg{}}) -> {ok, #s{}} | {stop, {table_name_taken, atom()}}.
init({Name, #cache_cfg{token_cache = Max} = Cfg}) ->
    ok = jwks_verify_cache_report:init(),
    try jwks_verify_cache_table:new(Name, Max) of
        {Tab, Tokens} -> {ok, start(#s{name = Name, tab = Tab, tokens = Tokens, cfg = Cfg})}
    catch
        error:badarg -> {stop, {table_name_taken, Name}}
    end.

start(S0) ->
    S = S0#s{next_kid_fetch = ?NOW_MS()},
    put_gate(S),
    erlang:send_after(?SWEEP_MS, self(), sweep),
    case S#s.cfg of
        #cache_cfg{source = {uri, _}} ->
            ok = jwks_verify_cache_http:ensure_started(),
            start_fetch(initial, S);
        #cache_cfg{static = KeySet} ->
            install_static(KeySet, S)
    end.

%% @private
-spec handle_call(term(), gen_server:from(), #s{}) ->
    {reply, term(), #s{}} | {noreply, #s{}}.
handle_call({kid_miss, Kid, Gen}, From, #s{cfg = Cfg} = S0) ->
    Now = ?NOW_MS(),
    S = bump(kid_misses, S0),
    telemetry([kid_miss], #{count => 1}, #{name => S#s.name}),
    Remote = element(1, Cfg#cache_cfg.source) =:= uri,
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
            case jwks_verify_cache_table:is_negative(Kid, Now, S#s.negatives) of
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
handle_call(refresh, From, #s{cfg = #cache_cfg{source = {uri, _}}} = S) ->
    case S#s.fetch of
        undefined -> {noreply, add_refresher(From, start_fetch(manual, S))};
        _ -> {noreply, add_refresher(From, S)}
    end;
handle_call(refresh, _From, #s{cfg = #cache_cfg{source = {file, Path}}} = S) ->
    case jwks_verify_cache_opts:read_file(Path) of
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
-spec handle_cast(term(), #s{}) -> {noreply, #s{}}.
handle_cast(_Msg, S) ->
    {noreply, S}.

%% @private
-spec handle_info(term(), #s{}) -> {noreply, #s{}}.
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
%% Fetches: start, outcome, next one
%%--------------------------------------------------------------------

start_fetch(Kind, #s{cfg = Cfg} = S) ->
    Parent = self(),
    Etag = case S#s.key_set of
        undefined -> undefined;
        _ -> S#s.etag
    end,
    {Pid, MRef} = spawn_monitor(fun() ->
        Parent ! {fetched, self(), jwks_verify_cache_http:fetch(Cfg, Etag)}
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
    jwks_verify_cache_table:clear_tokens(S2#s.tokens),
    %% Keys the issuer dropped stop verifying now (the row was replaced) and
    %% a token naming one does not trigger a refetch either.
    S3 = lists:foldl(fun(K, Acc) -> add_negative(K, Now, Acc) end,
                     clear_negatives(S2), Removed),
    case S0#s.key_set of
        undefined ->
            jwks_verify_cache_report:loaded(S0#s.name, uri(S3#s.cfg), Usable, maps:keys(Kids));
        _ ->
            jwks_verify_cache_report:changed(S0#s.name, Added, Removed)
    end,
    {#{kids_added => Added, kids_removed => Removed}, S3}.

%% The issuer confirmed our key set (200 or 304): it is fresh again. A 304
%% without caching headers keeps the freshness the 200 had (RFC 9111 §4.3.4).
confirm(New, Now, #s{cfg = Cfg} = S0) ->
    Ttl = case {maps:get(ttl, New), maps:get(status, New), S0#s.ttl} of
        {undefined, 304, Previous} when Previous =/= undefined -> Previous;
        {undefined, _, _} -> Cfg#cache_cfg.ttl;
        {T, _, _} -> T
    end,
    ExpiresAt = Now + Ttl,
    UnusableAt = max(ExpiresAt, Now + Cfg#cache_cfg.stale_ceiling),
    Etag = case maps:get(etag, New, undefined) of
        undefined -> S0#s.etag;
        E -> E
    end,
    jwks_verify_cache_report:recovered(S0#s.name, S0#s.failures),
    S = S0#s{ttl = Ttl, confirmed_at = Now, expires_at = ExpiresAt, unusable_at = UnusableAt,
             etag = Etag, failures = 0, last_error = undefined, warned_at = undefined},
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
    Kids = maps:from_list([{Kid, true} || #{kid := Kid} <- Keys, is_binary(Kid)]),
    S = S0#s{key_set = KeySet, kids = Kids, usable = Usable, skipped = Skipped,
             gen = S0#s.gen + 1, confirmed_at = ?NOW_MS(), expires_at = infinity,
             unusable_at = infinity, health = fresh, last_error = undefined},
    put_key_set(S),
    jwks_verify_cache_table:clear_tokens(S#s.tokens),
    clear_negatives(S).

%%--------------------------------------------------------------------
%% Health: fresh, stale, unavailable
%%--------------------------------------------------------------------

%% Reports the moves between fresh, stale and unavailable, and arms a timer
%% for the next one.
health_check(#s{name = Name} = S0) ->
    Now = ?NOW_MS(),
    S = case S0#s.status_timer of
        undefined -> S0;
        T -> _ = erlang:cancel_timer(T), S0#s{status_timer = undefined}
    end,
    Health = health(Now, S),
    case {S#s.health, Health} of
        {Same, Same} ->
            ok;
        {_, stale} ->
            jwks_verify_cache_report:health_changed(Name, stale, Now, S#s.confirmed_at,
                                                    S#s.unusable_at);
        {_, unavailable} when S#s.key_set =/= undefined ->
            jwks_verify_cache_table:clear_tokens(S#s.tokens),
            jwks_verify_cache_report:health_changed(Name, unavailable, Now, S#s.confirmed_at,
                                                    S#s.unusable_at);
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

health(_Now, #s{key_set = undefined}) -> unavailable;
health(Now, S) -> jwks_verify_cache_reader:health(Now, S#s.expires_at, S#s.unusable_at).

%%--------------------------------------------------------------------
%% Kid misses: single flight, rate limit, deferred refetch, negative kids
%%--------------------------------------------------------------------

kid_fetch(Now, #s{cfg = Cfg} = S) ->
    S1 = S#s{next_kid_fetch = Now + Cfg#cache_cfg.refetch_interval,
             deferred = false, deferred_since = undefined},
    start_fetch(kid_miss, bump(kid_fetches, cancel_deferred(S1))).

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
    Now = ?NOW_MS(),
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

add_negative(_Kid, _Now, #s{cfg = #cache_cfg{negative_ttl = 0}} = S) ->
    S;
add_negative(Kid, Now, #s{tab = Tab, cfg = Cfg} = S) ->
    Until = Now + Cfg#cache_cfg.negative_ttl,
    S#s{negatives = jwks_verify_cache_table:add_negative(Tab, Kid, Until, S#s.negatives)}.

clear_negatives(#s{tab = Tab} = S) ->
    S#s{negatives = jwks_verify_cache_table:clear_negatives(Tab)}.

sweep(#s{tab = Tab} = S) ->
    Negatives = jwks_verify_cache_table:sweep_negatives(Tab, ?NOW_MS(), S#s.negatives),
    ok = jwks_verify_cache_table:sweep_tokens(S#s.tokens, S#s.gen, os:system_time(second)),
    S#s{negatives = Negatives}.

%%--------------------------------------------------------------------
%% Rows for readers, info, helpers
%%--------------------------------------------------------------------

put_key_set(#s{tab = Tab} = S) ->
    jwks_verify_cache_table:put_key_set(Tab, #key_set{
        key_set = S#s.key_set, expires_at = S#s.expires_at, unusable_at = S#s.unusable_at,
        generation = S#s.gen, token_cache = S#s.tokens}).

put_gate(#s{tab = Tab, cfg = Cfg} = S) ->
    jwks_verify_cache_table:put_gate(Tab, #kid_gate{
        next_refetch_at = S#s.next_kid_fetch, deferred = S#s.deferred,
        in_flight = S#s.fetch =/= undefined, call_timeout = Cfg#cache_cfg.timeout + 5000}),
    S.

info_map(#s{cfg = Cfg} = S) ->
    Counts = maps:merge(#{fetches => 0, not_modified => 0, failures => 0, kid_misses => 0,
                          kid_fetches => 0, refetches_suppressed => 0}, S#s.counts),
    #{name => S#s.name,
      running => true,
      source => source_info(Cfg),
      status => health(?NOW_MS(), S),
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

source_info(#cache_cfg{source = {uri, Uri}}) -> {uri, list_to_binary(Uri)};
source_info(#cache_cfg{source = {file, Path}}) -> {file, Path};
source_info(#cache_cfg{source = {json, _}}) -> static.

to_system(undefined) -> undefined;
to_system(infinity) -> infinity;
to_system(T) -> T + erlang:time_offset(millisecond).

uri_binary(Cfg) -> unicode:characters_to_binary(uri(Cfg)).

uri(#cache_cfg{source = {uri, Uri}}) -> Uri;
uri(#cache_cfg{source = {file, Path}}) -> Path;
uri(#cache_cfg{source = {json, _}}) -> "static".

bump(Counter, #s{counts = Counts} = S) ->
    S#s{counts = Counts#{Counter => maps:get(Counter, Counts, 0) + 1}}.

telemetry(Event, Measurements, Meta) ->
    jwks_verify_cache_report:telemetry(Event, Measurements, Meta).

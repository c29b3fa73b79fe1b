%% @private
%% @doc What the cache and the guard tell an operator: log lines and
%% telemetry events. Telemetry is optional: events go out when the host
%% application has it loaded (no dependency; hex's `telemetry' is not
%% required). The cache's events are `[jwks_verify, cache | Event]':
%% `[fetch, start]', `[fetch, stop]', `[fetch, exception]', `[kid_miss]',
%% `[refetch_suppressed]', `[stale_served]'; the guard's are
%% `[jwks_verify, guard, stop | exception]' after each decision
%% ({@link guard_span/2}). The README's Telemetry section lists their
%% measurements and metadata.
-module(jwks_verify_cache_report).

%% Telemetry
-export([init/0, enabled/0, telemetry/3, guard_span/2]).
%% Log lines
-export([loaded/4, changed/3, failed/7, recovered/2, health_changed/5, private_keys/3,
         rebuilding/1]).
%% Log lines of callers
-export([not_running/1]).

-include_lib("kernel/include/logger.hrl").

%% A failing issuer is reminded of this often, not at every attempt.
-define(REMIND_MS, 300000).
%% A cache name that isn't running is warned of once a minute per name, for
%% this many names; past them, all other names share one warning a minute.
-define(NOT_RUNNING_EVERY_S, 60).
-define(NOT_RUNNING_NAMES, 1000).

%%--------------------------------------------------------------------
%% Telemetry
%%--------------------------------------------------------------------

%% @doc Loads `telemetry' when it is installed, so that
%% {@link telemetry/3} sees it (it checks loaded code only).
-spec init() -> ok.
init() ->
    _ = code:ensure_loaded(telemetry),
    ok.

%% @doc Emits `[jwks_verify, cache | Event]' when `telemetry' is loaded;
%% never fails.
-spec telemetry([atom()], map(), map()) -> ok.
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

%% @doc Whether `telemetry' is loaded, as {@link telemetry/3} checks it: a
%% BIF reading the export table, no code server call. Nothing is cached:
%% it sees `telemetry' loaded at any time (a handler's `telemetry:attach/4'
%% loads it).
-spec enabled() -> boolean().
enabled() ->
    erlang:function_exported(telemetry, execute, 3).

%% @doc Runs `Decide', the guard's decision for one request, and emits
%% `[jwks_verify, guard, stop]' with its duration and outcome, or
%% `[jwks_verify, guard, exception]' before raising again. No start event:
%% with no handler attached, a request pays two clock reads and one
%% handler lookup (`monotonic_time' minus `duration' is when it started).
%% `Keys' is the guard's cache name (metadata `cache') or key set
%% (`cache => nil'). The caller has checked {@link enabled/0}. Metadata
%% never holds the token, claims or request data: an exception's reason is
%% reduced to its atom and its stack trace to arities.
-spec guard_span(atom() | jwks_verify:key_set(), fun(() -> Result)) -> Result.
guard_span(Keys, Decide) ->
    Start = erlang:monotonic_time(),
    try Decide() of
        Result ->
            Stop = erlang:monotonic_time(),
            execute([jwks_verify, guard, stop],
                    #{duration => Stop - Start, monotonic_time => Stop},
                    outcome(Result, cache(Keys))),
            Result
    catch
        Kind:Reason:Stack ->
            Stop = erlang:monotonic_time(),
            execute([jwks_verify, guard, exception],
                    #{duration => Stop - Start, monotonic_time => Stop},
                    #{cache => cache(Keys), kind => Kind, reason => tag(Reason),
                      stacktrace => [{M, F, arity(A), L} || {M, F, A, L} <- Stack]}),
            erlang:raise(Kind, Reason, Stack)
    end.

cache(Name) when is_atom(Name) -> Name;
cache(_KeySet) -> nil.

outcome({ok, _Claims}, Cache) ->
    #{outcome => ok, reason => nil, status => nil, cache => Cache};
outcome(skip, Cache) ->
    #{outcome => skip, reason => nil, status => nil, cache => Cache};
outcome({error, Reason, {Status, _, _}}, Cache) ->
    #{outcome => refused, reason => tag(Reason), status => Status, cache => Cache};
outcome(_Other, Cache) ->
    #{outcome => nil, reason => nil, status => nil, cache => Cache}.

%% `{missing_claim, Name}' is `missing_claim', an Elixir exception its
%% module: metadata are tags, not data.
tag(Reason) when is_atom(Reason) -> Reason;
tag(#{'__struct__' := Module}) when is_atom(Module) -> Module;
tag(Reason) when is_tuple(Reason), tuple_size(Reason) > 0, is_atom(element(1, Reason)) ->
    element(1, Reason);
tag(_Reason) -> nil.

arity(Args) when is_list(Args) -> length(Args);
arity(Arity) -> Arity.

%% A handler that raises, or telemetry unloaded since enabled/0 said yes,
%% must not fail the cache or the request.
execute(Event, Measurements, Meta) ->
    try
        telemetry:execute(Event, Measurements, Meta)
    catch
        _:_ -> ok
    end.

%%--------------------------------------------------------------------
%% Log lines
%%--------------------------------------------------------------------

%% @doc The first key set of a cache is in.
-spec loaded(atom(), unicode:chardata(), non_neg_integer(), [binary()]) -> ok.
loaded(Name, Source, Usable, Kids) ->
    ?LOG_INFO("jwks_verify_cache ~p: key set loaded from ~ts: ~b usable keys, kids ~p",
              [Name, Source, Usable, Kids]).

%% @doc A fetch brought a different key set.
-spec changed(atom(), [binary()], [binary()]) -> ok.
changed(Name, Added, Removed) ->
    ?LOG_INFO("jwks_verify_cache ~p: key set changed: added ~p, removed ~p",
              [Name, Added, Removed]).

%% @doc Fetch attempt `N' (counting from 1 since the last success) failed.
%% One warning when an issuer starts failing, then a reminder every few
%% minutes, not one line per attempt. Answers when the operator was last
%% warned, `WarnedAt' (monotonic ms) unless this call warned.
-spec failed(atom(), unicode:chardata(), term(), pos_integer(), boolean(), integer(),
             integer() | undefined) -> integer() | undefined.
failed(Name, Source, Reason, N, HasKeySet, Now, WarnedAt) ->
    Serving = case HasKeySet of
        false -> "no key set yet, verification answers jwks_unavailable";
        true -> "serving the cached key set"
    end,
    if
        N =:= 1 ->
            ?LOG_WARNING("jwks_verify_cache ~p: fetching ~ts failed: ~0p; ~s; "
                         "retrying with backoff", [Name, Source, Reason, Serving]),
            Now;
        Now - WarnedAt >= ?REMIND_MS ->
            ?LOG_WARNING("jwks_verify_cache ~p: still failing after ~b attempts, last: ~0p; ~s",
                         [Name, N, Reason, Serving]),
            Now;
        true ->
            ?LOG_DEBUG("jwks_verify_cache ~p: attempt ~b failed: ~0p", [Name, N, Reason]),
            WarnedAt
    end.

%% @doc A fetch succeeded after `Failures' failed ones (silent after none).
-spec recovered(atom(), non_neg_integer()) -> ok.
recovered(_Name, 0) ->
    ok;
recovered(Name, Failures) ->
    ?LOG_NOTICE("jwks_verify_cache ~p: fetch succeeded after ~b failed attempts",
                [Name, Failures]).

%% @doc The key set has just become `stale' (reported once, with its age)
%% or `unavailable' (past the stale ceiling); times in monotonic ms.
-spec health_changed(atom(), stale | unavailable, integer(), integer(),
                     integer() | infinity) -> ok.
health_changed(Name, stale, Now, ConfirmedAt, UnusableAt) ->
    telemetry([stale_served], #{count => 1}, #{name => Name, age => Now - ConfirmedAt}),
    ?LOG_WARNING("jwks_verify_cache ~p: key set past its TTL, serving it stale "
                 "until the stale ceiling (~b ms from now)", [Name, UnusableAt - Now]);
health_changed(Name, unavailable, _Now, _ConfirmedAt, _UnusableAt) ->
    ?LOG_ERROR("jwks_verify_cache ~p: key set older than the stale ceiling; "
               "verification answers jwks_unavailable until a fetch succeeds", [Name]).

%% @doc `Keys' (`jwks_verify:key_set_info/1''s) that carry private key
%% material were refused (`private_key'): the issuer published secrets. An
%% error naming their kids, never their contents; silent when there are none.
-spec private_keys(atom(), unicode:chardata(), [map()]) -> ok.
private_keys(Name, Source, Keys) ->
    case [maps:get(kid, K, undefined) || #{status := private_key} = K <- Keys] of
        [] ->
            ok;
        Kids ->
            ?LOG_ERROR("jwks_verify_cache ~p: the key set from ~ts holds private key material "
                       "(kids ~p): those keys are refused; the issuer must remove them and "
                       "rotate them, as they are no longer secret", [Name, Source, Kids])
    end.

%% @doc The NIF library was reloaded: the key set is built again.
-spec rebuilding(atom()) -> ok.
rebuilding(Name) ->
    ?LOG_NOTICE("jwks_verify_cache ~p: the NIF library was reloaded; building the key set "
                "again from its source", [Name]).

%%--------------------------------------------------------------------
%% Log lines of callers
%%--------------------------------------------------------------------

%% @doc A caller asked a cache `Name' that isn't running (a misspelt name, or
%% a cache not started or between restarts): verification fails closed
%% (`jwks_unavailable'), and a warning says why, at most once a minute per
%% name. The state lives in no process (the application has none to own
%% it): one `atomics' per name, holding when the next warning may go out,
%% published once through `persistent_term' (a new key, so no global GC).
-spec not_running(atom()) -> ok.
not_running(Name) ->
    Now = erlang:monotonic_time(second),
    Ref = not_running_slot(Name),
    Next = atomics:get(Ref, 1),
    case Now >= Next andalso atomics:compare_exchange(Ref, 1, Next, Now + ?NOT_RUNNING_EVERY_S) of
        ok ->
            ?LOG_WARNING("jwks_verify_cache ~p: no cache of that name is running; verification "
                         "answers jwks_unavailable (a misspelt name, or a cache not started "
                         "under your supervisor?)", [Name]);
        _ ->
            ok
    end.

not_running_slot(Name) ->
    case persistent_term:get({?MODULE, not_running, Name}, undefined) of
        undefined ->
            case atomics:add_get(get_slot({?MODULE, not_running_count}, 0), 1, 1) of
                N when N =< ?NOT_RUNNING_NAMES ->
                    get_slot({?MODULE, not_running, Name}, -(1 bsl 62));
                _ ->
                    get_slot({?MODULE, not_running, '$others'}, -(1 bsl 62))
            end;
        Ref ->
            Ref
    end.

%% Two processes may race to create the same slot: the last one wins, which
%% costs at worst one extra warning (or one name counted twice).
get_slot(Key, Initial) ->
    case persistent_term:get(Key, undefined) of
        undefined ->
            Ref = atomics:new(1, [{signed, true}]),
            ok = atomics:put(Ref, 1, Initial),
            ok = persistent_term:put(Key, Ref),
            Ref;
        Ref ->
            Ref
    end.

%% A stand-in for hex's `telemetry' (1.x), for the tests only: telemetry
%% cannot be installed here (no hex.pm), and jwks_verify does not depend on
%% it. It is the same module name with the part of the API the tests and
%% jwks_verify call, behaving as the library does: handlers in a public ETS
%% table keyed by event name, called in the emitting process, one that
%% raises detached. JwksVerify.TelemetryHelpers compiles it into
%% _build/<env>/telemetry_stand_in and puts that on the code path, so
%% jwks_verify's detection (code:ensure_loaded/1 when a cache starts,
%% erlang:function_exported/3 at each event) finds it as it would find the
%% real one. Never compiled by Mix, never shipped.
-module(telemetry).

-export([attach/4, attach_many/4, detach/1, execute/3, list_handlers/1]).

-on_load(init/0).

%% Tells a test which telemetry it got.
-jwks_verify_stand_in(true).

-define(TAB, telemetry_stand_in_handlers).

%% The table outlives the process that loads the module, and a purge of the
%% module: its owner runs timer's code, not ours.
init() ->
    case ets:whereis(?TAB) of
        undefined ->
            Tab = ets:new(?TAB, [bag, public, named_table, {read_concurrency, true}]),
            true = ets:give_away(Tab, spawn(timer, sleep, [infinity]), []),
            ok;
        _ ->
            ok
    end.

-spec attach(term(), [atom()], fun((list(), map(), map(), term()) -> term()), term()) ->
    ok | {error, already_exists}.
attach(Id, Event, Fun, Config) ->
    attach_many(Id, [Event], Fun, Config).

-spec attach_many(term(), [[atom()]], fun((list(), map(), map(), term()) -> term()), term()) ->
    ok | {error, already_exists}.
attach_many(Id, Events, Fun, Config) when is_function(Fun, 4) ->
    case ets:match_object(?TAB, {'_', Id, '_', '_'}) of
        [] -> true = ets:insert(?TAB, [{Event, Id, Fun, Config} || Event <- Events]), ok;
        _ -> {error, already_exists}
    end.

-spec detach(term()) -> ok | {error, not_found}.
detach(Id) ->
    case ets:match_object(?TAB, {'_', Id, '_', '_'}) of
        [] -> {error, not_found};
        _ -> true = ets:match_delete(?TAB, {'_', Id, '_', '_'}), ok
    end.

-spec execute([atom()], map(), map()) -> ok.
execute(Event, Measurements, Metadata) when is_map(Measurements), is_map(Metadata) ->
    lists:foreach(
        fun({_, Id, Fun, Config}) ->
            try
                Fun(Event, Measurements, Metadata, Config)
            catch
                _:_ -> detach(Id)
            end
        end,
        ets:lookup(?TAB, Event)),
    ok.

-spec list_handlers([atom()]) -> [map()].
list_handlers(Prefix) ->
    [#{id => Id, event_name => Event, function => Fun, config => Config}
     || {Event, Id, Fun, Config} <- ets:tab2list(?TAB), lists:prefix(Prefix, Event)].

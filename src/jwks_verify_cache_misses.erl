%% @private
%% @doc The cache process's rules for kids its key set lacks: at most one
%% kid-miss refetch per `refetch_interval', a miss inside the interval
%% queueing one deferred refetch at its end (the kids seen meanwhile pending
%% on it), and negative kids (absent after a refetch, or removed by the
%% issuer) that ask for no refetch, not even a queued one, for
%% `negative_ttl' but never longer than `refetch_interval': a kid probed
%% before the issuer publishes it then holds back the real rotation no
%% longer than the rate limit would. State only: the
%% process starts the fetches, and owns the deferred timer's message
%% (`{timeout, TRef, deferred}') through {@link timer_fired/2}.
-module(jwks_verify_cache_misses).

%% State
-export([new/3, gate/1, negative_count/1]).
%% Misses and refetches
-export([miss/3, fetching/2, timer_fired/2, due/2, settle/5]).
%% Negative kids
-export([absent/3, replaced/3, clear/1, sweep/2]).

-export_type([misses/0]).

-include("jwks_verify_cache.hrl").

-define(MAX_PENDING_KIDS, 1000).

-record(misses, {
    tab :: atom(),
    interval :: non_neg_integer(),
    negative_ttl :: non_neg_integer(),
    %% no kid-miss refetch before this (monotonic time can be negative)
    next_at :: integer(),
    %% a refetch is queued for next_at, since deferred_since
    deferred = false :: boolean(),
    deferred_since :: integer() | undefined,
    timer :: reference() | undefined,
    %% kids missed while deferred, with when
    pending = #{} :: #{binary() => integer()},
    negatives = #{} :: jwks_verify_cache_table:negatives()
}).

-opaque misses() :: #misses{}.

%%--------------------------------------------------------------------
%% State
%%--------------------------------------------------------------------

%% @doc No miss yet: the first may refetch at once.
-spec new(atom(), #cache_cfg{}, integer()) -> misses().
new(Tab, #cache_cfg{refetch_interval = Interval, negative_ttl = NegativeTtl}, Now) ->
    #misses{tab = Tab, interval = Interval, negative_ttl = min(NegativeTtl, Interval),
            next_at = Now}.

%% @doc What the kid gate row publishes: `{NextRefetchAt, Deferred}'.
-spec gate(misses()) -> {integer(), boolean()}.
gate(#misses{next_at = Next, deferred = Deferred}) ->
    {Next, Deferred}.

%% @doc How many kids are negative.
-spec negative_count(misses()) -> non_neg_integer().
negative_count(#misses{negatives = Negatives}) ->
    map_size(Negatives).

%%--------------------------------------------------------------------
%% Misses and refetches
%%--------------------------------------------------------------------

%% @doc A miss on `Kid' while no fetch is under way: known absent, too soon
%% (then a refetch is queued for the end of the interval), or refetch now.
-spec miss(binary(), integer(), misses()) -> negative | {rate_limited, misses()} | fetch.
miss(Kid, Now, #misses{negatives = Negatives, next_at = Next} = M) ->
    case jwks_verify_cache_table:is_negative(Kid, Now, Negatives) of
        true -> negative;
        false when Now < Next -> {rate_limited, defer(Kid, Now, M)};
        false -> fetch
    end.

defer(Kid, Now, M0) ->
    Pending = case map_size(M0#misses.pending) < ?MAX_PENDING_KIDS of
        true -> (M0#misses.pending)#{Kid => Now};
        false -> M0#misses.pending
    end,
    M = M0#misses{pending = Pending},
    case M#misses.deferred of
        true ->
            M;
        false ->
            TRef = erlang:start_timer(max(0, M#misses.next_at - Now), self(), deferred),
            M#misses{deferred = true, deferred_since = Now, timer = TRef}
    end.

%% @doc A kid-miss refetch starts at `Now': the next waits an interval, and
%% it is the one queued.
-spec fetching(integer(), misses()) -> misses().
fetching(Now, #misses{interval = Interval} = M) ->
    cancel_timer(M#misses{next_at = Now + Interval, deferred = false,
                          deferred_since = undefined}).

%% @doc `{timeout, TRef, deferred}' arrived: `ok' when `TRef' is the
%% current timer (then see {@link due/2}), `stale' otherwise.
-spec timer_fired(reference(), misses()) -> {ok, misses()} | stale.
timer_fired(TRef, #misses{timer = TRef} = M) -> {ok, M#misses{timer = undefined}};
timer_fired(_TRef, _M) -> stale.

%% @doc Whether the queued refetch runs at `Now', with no fetch under way:
%% `idle' when none is queued, `fetch' when the interval is over, else the
%% timer is armed again for the rest of it.
-spec due(integer(), misses()) -> idle | fetch | {wait, misses()}.
due(_Now, #misses{deferred = false}) ->
    idle;
due(Now, #misses{next_at = Next}) when Now >= Next ->
    fetch;
due(Now, #misses{next_at = Next} = M) ->
    M1 = cancel_timer(M),
    {wait, M1#misses{timer = erlang:start_timer(Next - Now, self(), deferred)}}.

%% @doc A fetch that started at `Started' ended with `Reply'; `Kids' are the
%% key set's kids after it. A success answers the kids pending since before
%% it started (absent ones become negative), and the queued refetch too when
%% it was queued before; the caller then asks {@link due/2}.
-spec settle(ok | {error, term()}, integer(), integer(), #{binary() => true}, misses()) ->
    misses().
settle(ok, Started, Now, Kids, M0) ->
    {Answered, Open} = maps:fold(
        fun(K, SeenAt, {A, O}) when SeenAt =< Started -> {[K | A], O};
           (K, SeenAt, {A, O}) -> {A, O#{K => SeenAt}}
        end,
        {[], #{}}, M0#misses.pending),
    M1 = lists:foldl(fun(K, Acc) ->
                         case maps:is_key(K, Kids) of
                             true -> Acc;
                             false -> absent(K, Now, Acc)
                         end
                     end,
                     M0#misses{pending = Open}, Answered),
    case M1 of
        #misses{deferred = true, deferred_since = Since} when Since =< Started ->
            cancel_timer(M1#misses{deferred = false, deferred_since = undefined});
        _ ->
            M1
    end;
settle(_Reply, _Started, _Now, _Kids, M) ->
    M.

cancel_timer(#misses{timer = undefined} = M) ->
    M;
cancel_timer(#misses{timer = TRef} = M) ->
    _ = erlang:cancel_timer(TRef),
    M#misses{timer = undefined}.

%%--------------------------------------------------------------------
%% Negative kids
%%--------------------------------------------------------------------

%% @doc A refetch did not bring `Kid': negative for `negative_ttl', at most
%% `refetch_interval' (never, when that is 0).
-spec absent(binary(), integer(), misses()) -> misses().
absent(_Kid, _Now, #misses{negative_ttl = 0} = M) ->
    M;
absent(Kid, Now, #misses{tab = Tab, negative_ttl = Ttl, negatives = Negatives} = M) ->
    M#misses{negatives = jwks_verify_cache_table:add_negative(Tab, Kid, Now + Ttl, Negatives)}.

%% @doc A new key set: negative kids are forgotten, except those the issuer
%% just removed, which become negative (a token naming one asks for no
%% refetch).
-spec replaced([binary()], integer(), misses()) -> misses().
replaced(Removed, Now, M) ->
    lists:foldl(fun(K, Acc) -> absent(K, Now, Acc) end, clear(M), Removed).

%% @doc Forgets every negative kid.
-spec clear(misses()) -> misses().
clear(#misses{tab = Tab} = M) ->
    M#misses{negatives = jwks_verify_cache_table:clear_negatives(Tab)}.

%% @doc Drops negative kids whose time is up at `Now'.
-spec sweep(integer(), misses()) -> misses().
sweep(Now, #misses{tab = Tab, negatives = Negatives} = M) ->
    M#misses{negatives = jwks_verify_cache_table:sweep_negatives(Tab, Now, Negatives)}.

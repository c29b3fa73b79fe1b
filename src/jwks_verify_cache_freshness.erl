%% @private
%% @doc The key set's clock in the cache process: the TTL each confirmation
%% by the issuer gives (from the response, else the `ttl' option; a 304
%% without caching headers keeps the last one), the deadlines it sets
%% (fresh until `expires_at', usable until `unusable_at', at least
%% `stale_ceiling' after the confirmation), when to refresh ahead of expiry,
%% and the moves between fresh, stale and unavailable with the timer that
%% catches each (`{timeout, TRef, health}', through {@link timer_fired/2}).
-module(jwks_verify_cache_freshness).

%% State
-export([new/0, confirm/5, static/2]).
%% Reading it
-export([health/3, status/3, deadlines/1, times/1, refresh_in/1]).
%% Health moves
-export([check/4, timer_fired/2]).

-export_type([freshness/0]).

-include("jwks_verify_cache.hrl").

-record(freshness, {
    %% from the last confirmation (undefined before the first)
    ttl :: non_neg_integer() | undefined,
    confirmed_at :: integer() | undefined,
    expires_at :: integer() | infinity | undefined,
    unusable_at :: integer() | infinity | undefined,
    %% as last checked, and the timer for the next move
    health = unavailable :: jwks_verify_cache:status(),
    timer :: reference() | undefined
}).

-opaque freshness() :: #freshness{}.

%%--------------------------------------------------------------------
%% State
%%--------------------------------------------------------------------

%% @doc Nothing confirmed yet.
-spec new() -> freshness().
new() ->
    #freshness{}.

%% @doc The issuer confirmed the key set at `Now' with a response of
%% `Status' (200 or 304) whose headers gave `Ttl' (ms, already clamped),
%% or `undefined'. A 304 without caching headers keeps the freshness the
%% 200 had (RFC 9111 §4.3.4).
-spec confirm(non_neg_integer() | undefined, 200 | 304, integer(), #cache_cfg{}, freshness()) ->
    freshness().
confirm(Ttl0, Status, Now, #cache_cfg{ttl = Default, stale_ceiling = Ceiling}, F) ->
    Ttl = case {Ttl0, Status, F#freshness.ttl} of
        {undefined, 304, Previous} when Previous =/= undefined -> Previous;
        {undefined, _, _} -> Default;
        {T, _, _} -> T
    end,
    ExpiresAt = Now + Ttl,
    F#freshness{ttl = Ttl, confirmed_at = Now, expires_at = ExpiresAt,
                unusable_at = max(ExpiresAt, Now + Ceiling)}.

%% @doc A static key set, loaded at `Now': fresh for ever.
-spec static(integer(), freshness()) -> freshness().
static(Now, F) ->
    F#freshness{confirmed_at = Now, expires_at = infinity, unusable_at = infinity,
                health = fresh}.

%%--------------------------------------------------------------------
%% Reading it
%%--------------------------------------------------------------------

%% @doc The health at `Now' of a key set with these deadlines; readers ask
%% it of the key set row. A number is less than any atom: `infinity' never
%% comes.
-spec health(integer(), integer() | infinity, integer() | infinity) ->
    jwks_verify_cache:status().
health(Now, ExpiresAt, _UnusableAt) when Now < ExpiresAt -> fresh;
health(Now, _ExpiresAt, UnusableAt) when Now < UnusableAt -> stale;
health(_Now, _ExpiresAt, _UnusableAt) -> unavailable.

%% @doc The health at `Now'; `unavailable' without a key set.
-spec status(integer(), boolean(), freshness()) -> jwks_verify_cache:status().
status(_Now, false, _F) -> unavailable;
status(Now, true, F) -> health(Now, F#freshness.expires_at, F#freshness.unusable_at).

%% @doc `{ExpiresAt, UnusableAt}' for the key set row.
-spec deadlines(freshness()) -> {integer() | infinity, integer() | infinity}.
deadlines(#freshness{expires_at = ExpiresAt, unusable_at = UnusableAt}) ->
    {ExpiresAt, UnusableAt}.

%% @doc The TTL and times (monotonic ms), `undefined' when not known yet.
-spec times(freshness()) ->
    #{ttl := non_neg_integer() | undefined, confirmed_at := integer() | undefined,
      expires_at := integer() | infinity | undefined,
      unusable_at := integer() | infinity | undefined}.
times(F) ->
    #{ttl => F#freshness.ttl, confirmed_at => F#freshness.confirmed_at,
      expires_at => F#freshness.expires_at, unusable_at => F#freshness.unusable_at}.

%% @doc When to refresh after a confirmation: at 75-85 % of the TTL,
%% spread so that many nodes do not refresh in step.
-spec refresh_in(freshness()) -> pos_integer().
refresh_in(#freshness{ttl = Ttl}) ->
    max(1, round(Ttl * (0.75 + rand:uniform() * 0.1))).

%%--------------------------------------------------------------------
%% Health moves
%%--------------------------------------------------------------------

%% @doc Checks the health at `Now', reports a move to stale or (with a key
%% set) to unavailable, and arms the timer for the next move. Answers
%% `unavailable' when the key set has just become unusable (the caller drops
%% what it derived from it), `ok' otherwise.
-spec check(atom(), integer(), boolean(), freshness()) -> {ok | unavailable, freshness()}.
check(Name, Now, HasKeySet, F0) ->
    F = cancel_timer(F0),
    Health = status(Now, HasKeySet, F),
    Moved = case {F#freshness.health, Health} of
        {Same, Same} ->
            ok;
        {_, stale} ->
            jwks_verify_cache_report:health_changed(Name, stale, Now, F#freshness.confirmed_at,
                                                    F#freshness.unusable_at),
            ok;
        {_, unavailable} when HasKeySet ->
            jwks_verify_cache_report:health_changed(Name, unavailable, Now,
                                                    F#freshness.confirmed_at,
                                                    F#freshness.unusable_at),
            unavailable;
        _ ->
            ok
    end,
    Next = case Health of
        fresh -> F#freshness.expires_at;
        stale -> F#freshness.unusable_at;
        unavailable -> infinity
    end,
    case Next of
        infinity ->
            {Moved, F#freshness{health = Health}};
        _ ->
            TRef = erlang:start_timer(max(0, Next - Now), self(), health),
            {Moved, F#freshness{health = Health, timer = TRef}}
    end.

%% @doc `{timeout, TRef, health}' arrived: `ok' when `TRef' is the current
%% timer (then {@link check/4}), `stale' otherwise.
-spec timer_fired(reference(), freshness()) -> {ok, freshness()} | stale.
timer_fired(TRef, #freshness{timer = TRef} = F) -> {ok, F#freshness{timer = undefined}};
timer_fired(_TRef, _F) -> stale.

cancel_timer(#freshness{timer = undefined} = F) ->
    F;
cancel_timer(#freshness{timer = TRef} = F) ->
    _ = erlang:cancel_timer(TRef),
    F#freshness{timer = undefined}.

%% @private
%% @doc The cache's read path, run in the caller's process: ETS lookups,
%% the verified-token cache, and on an unknown kid the one call to the cache
%% process (a refetch it may grant) then one retry. Nothing here messages
%% the process otherwise; rows are those of `jwks_verify_cache.hrl'.
-module(jwks_verify_cache_reader).

%% Reading the key set row
-export([verify/4, key_set/1, status/1]).
%% Reading the issuer row
-export([issuer/1]).

-include("jwks_verify_opts.hrl").
-include("jwks_verify_cache.hrl").

-define(MAX_KID_BYTES, 1024).

%%--------------------------------------------------------------------
%% Reading the key set row
%%--------------------------------------------------------------------

%% @doc {@link jwks_verify_cache:verify/4}.
-spec verify(jwks_verify_cache:name(), binary(), jwks_verify:prepared_opts(), jwt | jws) ->
    {ok, jwks_verify:claims()} | {ok, {map(), binary()}}
    | {error, jwks_verify:reason() | {unknown_kid, binary()}}.
verify(Name, Token, Opts0, Mode) ->
    Opts = default_issuer(Name, Opts0),
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

%% @doc {@link jwks_verify_cache:key_set/1}.
-spec key_set(jwks_verify_cache:name()) ->
    {ok, jwks_verify:key_set()} | {error, jwks_unavailable}.
key_set(Name) ->
    case lookup(Name) of
        {ok, KeySet, _Gen, _Tokens} -> {ok, KeySet};
        Error -> Error
    end.

%% @doc {@link jwks_verify_cache:status/1}.
-spec status(jwks_verify_cache:name()) -> jwks_verify_cache:status().
status(Name) ->
    try ets:lookup(Name, key_set) of
        [#key_set{expires_at = ExpiresAt, unusable_at = UnusableAt}] ->
            jwks_verify_cache_freshness:health(?NOW_MS(), ExpiresAt, UnusableAt);
        _ ->
            unavailable
    catch
        error:badarg -> unavailable
    end.

lookup(Name) ->
    try ets:lookup(Name, key_set) of
        [#key_set{key_set = KeySet, unusable_at = UnusableAt, generation = Gen,
                  token_cache = Tokens}] ->
            %% A number is less than any atom, so `infinity' never expires.
            case ?NOW_MS() < UnusableAt of
                true -> {ok, KeySet, Gen, Tokens};
                false -> {error, jwks_unavailable}
            end;
        _ ->
            {error, jwks_unavailable}
    catch
        error:badarg -> {error, jwks_unavailable}
    end.

%% A cache that knows its issuer checks `iss' unless the caller named one.
default_issuer(Name, #jwks_verify_opts{iss = []} = Opts) ->
    case issuer(Name) of
        undefined -> Opts;
        Issuer -> Opts#jwks_verify_opts{iss = [Issuer]}
    end;
default_issuer(_Name, Opts) ->
    Opts.

%% @doc {@link jwks_verify_cache:issuer/1}.
-spec issuer(jwks_verify_cache:name()) -> binary() | undefined.
issuer(Name) ->
    try ets:lookup(Name, issuer) of
        [?ISSUER(Issuer)] -> Issuer;
        [] -> undefined
    catch
        error:badarg -> undefined
    end.

check(Name, Token, Opts, Mode, KeySet, Gen) ->
    case jwks_verify:check(Token, KeySet, Opts, Mode) of
        {error, {unknown_kid, Kid}} -> kid_miss(Name, Kid, Token, Opts, Mode, Gen);
        Result -> Result
    end.

%%--------------------------------------------------------------------
%% The verified-token cache
%%--------------------------------------------------------------------

%% A hit skips the signature, but never the time claims, which are checked
%% again here. Anything short of a clear pass goes to the NIF, so a cached
%% answer can only ever be one the NIF would give. Entries are keyed by the
%% token's hash alone (cheaper to look up than a key holding the options
%% too); the options, less `now', must match.
cached_check(Name, Token, Opts, KeySet, Gen, {Tab, Max}) ->
    Hash = crypto:hash(sha256, Token),
    Match = Opts#jwks_verify_opts{now = undefined},
    Now = opts_now(Opts),
    Leeway = Opts#jwks_verify_opts.leeway,
    try ets:lookup(Tab, Hash) of
        [?TOKEN(_, Match, Gen, Exp, Nbf, Iat, _, Claims)] when
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
                ets:insert(Tab, ?TOKEN(Hash, Match, Gen, Exp, Nbf, Iat, Exp + Leeway, Claims))
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

%%--------------------------------------------------------------------
%% Kid misses
%%--------------------------------------------------------------------

%% Called only on `unknown_kid': ask the cache for a refetch unless the kid is
%% known to be absent or the rate limit is spent and a refetch already queued.
kid_miss(Name, Kid, Token, Opts, Mode, Gen) ->
    case Kid of
        _ when byte_size(Kid) =< ?MAX_KID_BYTES ->
            case ask(Name, Kid, ?NOW_MS()) of
                {true, Timeout} ->
                    try gen_server:call(Name, {kid_miss, Kid, Gen}, Timeout) of
                        retry -> retry(Name, Token, Opts, Mode);
                        {error, _} = Error -> Error
                    catch
                        exit:_ -> {error, jwks_unavailable}
                    end;
                {false, Why} ->
                    jwks_verify_cache_report:telemetry([refetch_suppressed], #{count => 1},
                                                       #{name => Name, reason => Why}),
                    {error, unknown_kid}
            end;
        _ ->
            {error, unknown_kid}
    end.

ask(Name, Kid, Now) ->
    try ets:lookup(Name, ?NEGATIVE_KEY(Kid)) of
        [?NEGATIVE(_, Until)] when Now < Until ->
            {false, negative};
        _ ->
            case ets:lookup(Name, kid_gate) of
                [#kid_gate{next_refetch_at = Next, deferred = true, in_flight = false}]
                    when Now < Next ->
                    {false, rate_limited};
                [#kid_gate{call_timeout = Timeout}] ->
                    {true, Timeout}
            end
    catch
        error:_ -> {false, unavailable}
    end.

retry(Name, Token, Opts, Mode) ->
    case lookup(Name) of
        {ok, KeySet, _Gen, _Tokens} -> jwks_verify:check(Token, KeySet, Opts, Mode);
        Error -> Error
    end.

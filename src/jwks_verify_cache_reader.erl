%% @private
%% @doc The cache's read path, run in the caller's process: ETS lookups and
%% the verified-token cache. A hit never messages the cache process; these
%% do, then read again once: an unknown kid (a refetch it may grant), no
%% usable key set while a fetch is under way (the caller joins it), a key
%% set the NIF refuses after a library reload (the process builds it
%% again). A verified token is offered to the process for the token cache
%% (a cast). Rows are those of `jwks_verify_cache.hrl'.
-module(jwks_verify_cache_reader).

%% Reading the key set row
-export([verify/4, key_set/1, status/1]).
%% Reading the issuer row
-export([issuer/1]).

-include("jwks_verify_opts.hrl").
-include("jwks_verify_cache.hrl").

-define(MAX_KID_BYTES, 1024).
%% Building a key set again after a NIF reload: a parse, or a file read.
-define(REBUILD_TIMEOUT, 10000).
%% A verified token is offered to the cache process for its token cache only
%% while the process has fewer messages than this waiting: under a flood of
%% new tokens, some go uncached rather than queue up.
-define(MAX_OFFER_QUEUE, 64).

%%--------------------------------------------------------------------
%% Reading the key set row
%%--------------------------------------------------------------------

%% @doc {@link jwks_verify_cache:verify/4}.
-spec verify(jwks_verify_cache:name(), binary(), jwks_verify:prepared_opts(), jwt | jws) ->
    {ok, jwks_verify:claims()} | {ok, {map(), binary()}}
    | {error, jwks_verify:reason() | {unknown_kid, binary()}}.
verify(Name, Token, Opts0, Mode) ->
    Opts = default_issuer(Name, Opts0),
    case usable(Name) of
        {ok, KeySet, Gen, undefined} ->
            check(Name, Token, Opts, Mode, KeySet, Gen);
        {ok, KeySet, Gen, _Tokens} when Mode =:= jws ->
            check(Name, Token, Opts, Mode, KeySet, Gen);
        {ok, KeySet, Gen, Tokens} ->
            cached_check(Name, Token, Opts, KeySet, Gen, Tokens);
        Error ->
            Error
    end.

%% @doc {@link jwks_verify_cache:key_set/1}. A key set the NIF no longer
%% knows (the library was reloaded) is built again first.
-spec key_set(jwks_verify_cache:name()) ->
    {ok, jwks_verify:key_set()} | {error, jwks_unavailable}.
key_set(Name) ->
    case usable(Name) of
        {ok, KeySet, Gen, _Tokens} ->
            try jwks_verify:key_set_info(KeySet) of
                _ -> {ok, KeySet}
            catch
                error:{badarg, _} ->
                    case rebuild(Name, Gen) of
                        retry -> with_key_set(Name, fun(Ks, _, _) -> {ok, Ks} end);
                        Error -> Error
                    end
            end;
        Error ->
            Error
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
        error:badarg -> not_running
    end.

%% The key set row when usable. Without one, a caller joins the fetch under
%% way (the first one at boot, or a retry past the stale ceiling) and reads
%% the row again once it ends; while the cache backs off it fails at once.
usable(Name) ->
    case lookup(Name) of
        none -> join(Name);
        not_running -> not_running(Name);
        Found -> Found
    end.

lookup(Name) ->
    try ets:lookup(Name, key_set) of
        [#key_set{key_set = KeySet, unusable_at = UnusableAt, generation = Gen,
                  token_cache = Tokens}] ->
            %% A number is less than any atom, so `infinity' never expires.
            case ?NOW_MS() < UnusableAt of
                true -> {ok, KeySet, Gen, Tokens};
                false -> none
            end;
        _ ->
            none
    catch
        error:badarg -> not_running
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

join(Name) ->
    Joined = try ets:lookup(Name, kid_gate) of
        [#kid_gate{in_flight = true, call_timeout = Timeout}] ->
            try gen_server:call(Name, join_fetch, Timeout) of
                retry -> true;
                {error, jwks_unavailable} -> false
            catch
                exit:_ -> false
            end;
        _ ->
            %% No fetch under way; one may have ended since our lookup.
            true
    catch
        error:badarg -> false
    end,
    case Joined andalso lookup(Name) of
        {ok, _, _, _} = Found -> Found;
        not_running -> not_running(Name);
        _ -> {error, jwks_unavailable}
    end.

not_running(Name) ->
    jwks_verify_cache_report:not_running(Name),
    {error, jwks_unavailable}.

with_key_set(Name, Fun) ->
    case lookup(Name) of
        {ok, KeySet, Gen, Tokens} -> Fun(KeySet, Gen, Tokens);
        _ -> {error, jwks_unavailable}
    end.

%% The NIF raises badarg for a key set made by a library since unloaded
%% (`code:delete/1' and `code:purge/1' of jwks_verify_nif, then a new load):
%% the cache process builds the key set again from its source, and the call
%% runs once more (a badarg with another cause then raises, as before).
check(Name, Token, Opts, Mode, KeySet, Gen) ->
    try jwks_verify:check(Token, KeySet, Opts, Mode) of
        {error, {unknown_kid, Kid}} -> kid_miss(Name, Kid, Token, Opts, Mode, Gen);
        Result -> Result
    catch
        error:badarg ->
            case rebuild(Name, Gen) of
                retry -> with_key_set(Name, fun(Ks, _, _) ->
                                                   jwks_verify:check(Token, Ks, Opts, Mode)
                                           end);
                Error -> Error
            end
    end.

rebuild(Name, Gen) ->
    try
        gen_server:call(Name, {rebuild, Gen}, ?REBUILD_TIMEOUT)
    catch
        exit:_ -> {error, jwks_unavailable}
    end.

%%--------------------------------------------------------------------
%% The verified-token cache
%%--------------------------------------------------------------------

%% A hit skips the signature, but never the time claims, which are checked
%% again here. Anything short of a clear pass goes to the NIF, so a cached
%% answer can only ever be one the NIF would give. Entries are keyed by the
%% token's hash alone (cheaper to look up than a key holding the options
%% too); the options, less `now', must match. The table is protected: a
%% token verified here is offered to the cache process, which verifies it
%% again itself before it writes the entry, so no other process can make a
%% token pass.
cached_check(Name, Token, Opts, KeySet, Gen, {Tab, _Max}) ->
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
                    offer(Name, Token, Opts, Gen, Claims),
                    Ok;
                Other ->
                    Other
            end
    catch
        error:badarg -> check(Name, Token, Opts, jwt, KeySet, Gen)
    end.

opts_now(#jwks_verify_opts{now = undefined}) -> erlang:system_time(second);
opts_now(#jwks_verify_opts{now = Now}) -> Now.

%% Tokens without exp are not cached: nothing would bound the entry's life.
offer(Name, Token, Opts, Gen, #{<<"exp">> := Exp}) when is_integer(Exp) ->
    case whereis(Name) of
        Pid when is_pid(Pid) ->
            case erlang:process_info(Pid, message_queue_len) of
                {message_queue_len, N} when N < ?MAX_OFFER_QUEUE ->
                    gen_server:cast(Pid, {remember, Token, Opts, Gen});
                _ ->
                    ok
            end;
        _ ->
            ok
    end;
offer(_Name, _Token, _Opts, _Gen, _Claims) ->
    ok.

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
    with_key_set(Name, fun(KeySet, _Gen, _Tokens) ->
                           jwks_verify:check(Token, KeySet, Opts, Mode)
                   end).

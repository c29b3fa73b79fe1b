%% @doc Verify compact JWS/JWT tokens against a JWKS.
%%
%% The plain-Erlang API of jwks_verify. A key set is parsed once with
%% {@link key_set/1} into an immutable term (a NIF resource) that any number
%% of processes may share, store in ETS and pass to {@link verify/3}.
%%
%% Untrusted input (tokens, JWKS documents) never raises: the answer is
%% `{error, Reason}' with a documented reason. Caller mistakes (a token that is
%% not a binary, an unknown option) raise `{badarg, Description}'.
-module(jwks_verify).

%% Key sets
-export([key_set/1, key_set_info/1]).
%% Verification
-export([verify/3, verify_jws/3]).
%% Options
-export([options/1, reasons/0]).
%% For jwks_verify_cache only: verify/3 that names the kid of an unknown_kid
-export([check/4]).

-export_type([key_set/0, opts/0, prepared_opts/0, claims/0, reason/0, json/0]).

-include("jwks_verify_opts.hrl").

-opaque key_set() :: reference().
-opaque prepared_opts() :: #jwks_verify_opts{}.
-type opts() :: #{
    algs => [binary()],
    iss => binary() | [binary()],
    aud => binary() | [binary()],
    leeway => non_neg_integer(),
    now => integer(),
    required => [binary()],
    typ => binary(),
    max_token_bytes => pos_integer()
}.
-type json() :: #{binary() => json()} | [json()] | binary() | number() | true | false | null.
-type claims() :: #{binary() => json()}.
-type reason() ::
    token_too_large | malformed_token | bad_base64 | bad_header | alg_none
    | unsupported_alg | alg_not_allowed | embedded_key | unsupported_crit | invalid_typ
    | unknown_kid | ambiguous_kid | no_matching_key | key_alg_mismatch | key_type_mismatch
    | key_not_for_signing | rsa_key_too_small | weak_rsa_exponent | roca_weak_key
    | invalid_ec_point | invalid_key | unsupported_key
    | bad_signature_length | signature_out_of_range | bad_signature
    | bad_payload | {invalid_claim, binary()} | {missing_claim, binary()}
    | expired | not_yet_valid | issued_in_future | invalid_issuer | invalid_audience
    | jwks_too_large | bad_json | bad_jwks | too_many_keys | internal_error
    | jwks_unavailable.

-define(ALGS, [<<"RS256">>, <<"RS384">>, <<"RS512">>, <<"PS256">>, <<"PS384">>,
               <<"PS512">>, <<"ES256">>, <<"ES384">>, <<"ES512">>, <<"EdDSA">>]).

%%--------------------------------------------------------------------
%% Key sets
%%--------------------------------------------------------------------

%% @doc Parses a JWKS document (`{"keys": [...]}') into a key set.
%% Keys that can't be used (unknown kty or crv, RSA under 2048 bits, `use'
%% other than `sig', ...) are kept with the reason, so a token naming one gets
%% that reason; {@link key_set_info/1} lists them.
-spec key_set(iodata()) -> {ok, key_set()} | {error, reason()}.
key_set(Json) when is_binary(Json) ->
    jwks_verify_nif:key_set(Json);
key_set(Json) when is_list(Json) ->
    try iolist_to_binary(Json) of
        Bin -> jwks_verify_nif:key_set(Bin)
    catch
        error:badarg -> erlang:error({badarg, "key_set/1 expects a binary or iodata"})
    end;
key_set(Other) ->
    erlang:error({badarg, {"key_set/1 expects a binary, got", Other}}).

%% @doc Describes a key set: each entry's kid, kty, alg and status
%% (`ok' or the reason the key is refused), and how many are usable.
-spec key_set_info(key_set()) ->
    #{usable := non_neg_integer(), skipped := non_neg_integer(),
      keys := [#{kid := binary() | undefined, kty := binary(),
                 alg := binary() | undefined, status := ok | reason()}]}.
key_set_info(KeySet) ->
    Keys = jwks_verify_nif:key_set_info(KeySet),
    Usable = length([K || #{status := ok} = K <- Keys]),
    #{usable => Usable, skipped => length(Keys) - Usable, keys => Keys}.

%%--------------------------------------------------------------------
%% Verification
%%--------------------------------------------------------------------

%% @doc Verifies a compact JWT: signature (RFC 7515), then claims (RFC 7519).
%% `KeySet' is a key set from {@link key_set/1}, or the name of a running
%% {@link jwks_verify_cache}. `Opts' is a map (see {@link opts()}) or what
%% {@link options/1} returned; prepare options once when verifying often.
-spec verify(binary(), key_set() | atom(), opts() | prepared_opts()) ->
    {ok, claims()} | {error, reason()}.
verify(Token, KeySet, Opts) ->
    run(Token, KeySet, Opts, jwt).

%% @doc Verifies a compact JWS without reading its payload as claims:
%% the same size limits, header rules, key selection and signature check as
%% {@link verify/3}. The payload comes back as bytes.
-spec verify_jws(binary(), key_set() | atom(), opts() | prepared_opts()) ->
    {ok, #{header := claims(), payload := binary()}} | {error, reason()}.
verify_jws(Token, KeySet, Opts) ->
    case run(Token, KeySet, Opts, jws) of
        {ok, {Header, Payload}} -> {ok, #{header => Header, payload => Payload}};
        Error -> Error
    end.

run(Token, KeySet, #jwks_verify_opts{} = Opts, Mode) when is_binary(Token) ->
    Result =
        if
            is_atom(KeySet) -> jwks_verify_cache:verify(KeySet, Token, Opts, Mode);
            true -> check(Token, KeySet, Opts, Mode)
        end,
    case Result of
        {error, {unknown_kid, _Kid}} -> {error, unknown_kid};
        _ -> Result
    end;
run(Token, KeySet, Opts, Mode) when is_binary(Token), is_map(Opts) ->
    run(Token, KeySet, options(Opts), Mode);
run(Token, _KeySet, Opts, _Mode) when is_binary(Token) ->
    erlang:error({badarg, {"options must be a map, got", Opts}});
run(Token, _KeySet, _Opts, _Mode) ->
    erlang:error({badarg, {"the token must be a binary, got", Token}}).

%% @private
%% The NIF's answer as is: `{error, {unknown_kid, Kid}}' names the token's kid,
%% which the cache needs to refetch; the public API drops the kid.
-spec check(binary(), key_set(), prepared_opts(), jwt | jws) ->
    {ok, claims() | {claims(), binary()}}
    | {error, reason() | {unknown_kid, binary()}}.
check(Token, KeySet, Opts, Mode) ->
    jwks_verify_nif:verify(Token, KeySet, Opts, Mode).

%%--------------------------------------------------------------------
%% Options
%%--------------------------------------------------------------------

%% @doc Validates options once, for repeated use with {@link verify/3}.
%% Raises `{badarg, Description}' on an unknown option or a bad value.
-spec options(opts() | prepared_opts()) -> prepared_opts().
options(#jwks_verify_opts{} = Prepared) ->
    Prepared;
options(Opts) when is_map(Opts) ->
    maps:fold(fun option/3, #jwks_verify_opts{}, Opts);
options(Other) ->
    erlang:error({badarg, {"options must be a map, got", Other}}).

option(algs, Algs, O) when is_list(Algs), Algs =/= [] ->
    O#jwks_verify_opts{algs = lists:foldl(fun alg_bit/2, 0, Algs)};
option(iss, Iss, O) ->
    O#jwks_verify_opts{iss = binaries(iss, Iss)};
option(aud, Aud, O) ->
    O#jwks_verify_opts{aud = binaries(aud, Aud)};
option(leeway, L, O) when is_integer(L), L >= 0, L < 1 bsl 40 ->
    O#jwks_verify_opts{leeway = L};
option(now, Now, O) when is_integer(Now), abs(Now) < 1 bsl 62 ->
    O#jwks_verify_opts{now = Now};
option(required, Req, O) when is_list(Req) ->
    O#jwks_verify_opts{required = [B || B <- binaries(required, Req)]};
option(typ, Typ, O) when is_binary(Typ) ->
    O#jwks_verify_opts{typ = Typ};
option(typ, undefined, O) ->
    O#jwks_verify_opts{typ = undefined};
option(max_token_bytes, N, O) when is_integer(N), N > 0, N < 1 bsl 30 ->
    O#jwks_verify_opts{max_token_bytes = N};
option(Key, Value, _O) ->
    Known = [algs, iss, aud, leeway, now, required, typ, max_token_bytes],
    case lists:member(Key, Known) of
        true -> erlang:error({badarg, {"bad value for option", Key, Value}});
        false -> erlang:error({badarg, {"unknown option", Key, {known, Known}}})
    end.

alg_bit(Alg, Acc) ->
    case index_of(Alg, ?ALGS, 0) of
        not_found -> erlang:error({badarg, {"unsupported algorithm in algs", Alg, {supported, ?ALGS}}});
        I -> Acc bor (1 bsl I)
    end.

index_of(X, [X | _], I) -> I;
index_of(X, [_ | T], I) -> index_of(X, T, I + 1);
index_of(_, [], _) -> not_found.

binaries(_Key, B) when is_binary(B) -> [B];
binaries(Key, L) when is_list(L) ->
    case lists:all(fun is_binary/1, L) of
        true -> L;
        false -> erlang:error({badarg, {"bad value for option", Key, L}})
    end;
binaries(Key, Other) ->
    erlang:error({badarg, {"bad value for option", Key, Other}}).

%% @doc Every reason atom the C core can return, in code order (for docs and tests).
-spec reasons() -> [atom()].
reasons() ->
    jwks_verify_nif:reasons().

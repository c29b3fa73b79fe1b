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
-export([key_set/1, key_set_from_pem/1, key_set_info/1]).
%% Verification
-export([verify/3, verify_jws/3]).
%% Reading a token WITHOUT verifying it (logging, choosing a key set)
-export([peek_unverified/1, peek_unverified/2]).
%% Authorization on verified claims
-export([check_scopes/2]).
%% Options
-export([options/1, options_map/1, reasons/0]).
%% Scheduling
-export([verify_scheduler/0, verify_scheduler/1]).
%% For jwks_verify_cache only: verify/3 that names the kid of an unknown_kid
-export([check/4]).

-export_type([key_set/0, opts/0, prepared_opts/0, claims/0, reason/0, json/0]).

-include("jwks_verify_opts.hrl").

-opaque key_set() :: reference().
-opaque prepared_opts() :: #jwks_verify_opts{}.
-type opts() :: #{
    algs => [binary()],
    iss => binary() | [binary()],
    aud => binary() | [binary()] | any,
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
    | key_not_for_signing | private_key | rsa_key_too_small | weak_rsa_exponent | roca_weak_key
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
%% other than `sig', private key material, ...) are kept with the reason, so a
%% token naming one gets that reason; {@link key_set_info/1} lists them.
-spec key_set(iodata()) -> {ok, key_set()} | {error, reason()}.
key_set(<<"-----BEGIN", _/binary>>) ->
    jwks_verify_badarg:error("key_set/1 expects a JWKS JSON document ({\"keys\": [...]}), "
                             "got a PEM block");
key_set(Json) when is_binary(Json) ->
    jwks_verify_nif:key_set(Json);
key_set(Json) when is_list(Json) ->
    try iolist_to_binary(Json) of
        Bin -> key_set(Bin)
    catch
        error:badarg -> key_set_error(Json)
    end;
key_set(Other) ->
    key_set_error(Other).

key_set_error(Other) ->
    jwks_verify_badarg:bad_argument(json, Other, "a JWKS JSON document as a binary or iodata").

%% @doc A key set from PEM public keys, for issuers that hand out PEM instead
%% of a JWKS. Each entry names its key's `alg' (required: a PEM says nothing of
%% it) and optionally its `kid'; the PEM holds a `PUBLIC KEY'
%% (SubjectPublicKeyInfo), an `RSA PUBLIC KEY' (PKCS#1) or a `CERTIFICATE'
%% (its subject key; the certificate's dates and chain are not checked). Keys
%% go through the same checks as a JWKS's; a refused key is kept with its
%% reason (see {@link key_set_info/1}). A private key fails the whole call with
%% `private_key' (it is your configuration, and the key must be replaced, not
%% skipped), a PEM that holds no readable public key `invalid_key', a key whose
%% type does not fit its `alg' `key_type_mismatch'.
-spec key_set_from_pem([#{pem := iodata(), alg := binary(), kid => binary()}]) ->
    {ok, key_set()} | {error, reason()}.
key_set_from_pem(Entries) when is_list(Entries) ->
    case jwks_verify_pem:to_jwks([pem_entry(E) || E <- Entries]) of
        {ok, Json} -> jwks_verify_nif:key_set(Json);
        Error -> Error
    end;
key_set_from_pem(Other) ->
    jwks_verify_badarg:bad_argument(entries, Other, "a list of #{pem, alg, kid} maps").

pem_entry(E) when is_map(E) ->
    case maps:keys(maps:without([pem, alg, kid], E)) of
        [Unknown | _] -> jwks_verify_badarg:unknown_option(Unknown, [pem, alg, kid]);
        [] -> ok
    end,
    Pem = maps:get(pem, E, undefined),
    Alg = maps:get(alg, E, undefined),
    Bin = try iolist_to_binary(Pem)
          catch error:badarg -> jwks_verify_badarg:bad_value(pem, Pem, "PEM text")
          end,
    index_of(Alg, ?ALGS, 0) =:= not_found andalso
        jwks_verify_badarg:bad_value(alg, Alg, ["one of ", lists:join(", ", ?ALGS)]),
    case E of
        #{kid := Kid} when not is_binary(Kid); Kid =:= <<>> ->
            jwks_verify_badarg:bad_value(kid, Kid, "a non-empty binary");
        _ ->
            (maps:with([kid], E))#{pem => Bin, alg => Alg}
    end;
pem_entry(Other) ->
    jwks_verify_badarg:bad_argument(entry, Other, "a map with pem and alg (and optionally kid)").

%% @doc Describes a key set: each entry's kid, kty, alg and status
%% (`ok' or the reason the key is refused), and how many are usable.
-spec key_set_info(key_set()) ->
    #{usable := non_neg_integer(), skipped := non_neg_integer(),
      keys := [#{kid := binary() | undefined, kty := binary(),
                 alg := binary() | undefined, status := ok | reason()}]}.
key_set_info(KeySet) ->
    Keys = try jwks_verify_nif:key_set_info(KeySet)
           catch error:badarg -> not_a_key_set(KeySet)
           end,
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

run(Token, KeySet, #jwks_verify_opts{} = Opts, Mode) when is_binary(Token),
                                                       (is_reference(KeySet) orelse
                                                        is_atom(KeySet)) ->
    Result =
        if
            is_atom(KeySet) -> jwks_verify_cache:verify(KeySet, Token, Opts, Mode);
            true -> try check(Token, KeySet, Opts, Mode)
                    catch error:badarg -> not_a_key_set(KeySet)
                    end
        end,
    case Result of
        {error, {unknown_kid, _Kid}} -> {error, unknown_kid};
        _ -> Result
    end;
run(Token, KeySet, Opts, Mode) when is_binary(Token), is_map(Opts) ->
    run(Token, KeySet, options(Opts), Mode);
run(Token, KeySet, #jwks_verify_opts{}, _Mode) when is_binary(Token), is_binary(KeySet) ->
    jwks_verify_badarg:error("expected a key set from key_set/1 or a cache name, got a binary "
                             "(a JWKS document? parse it once with key_set/1 and keep the result)");
run(Token, KeySet, #jwks_verify_opts{}, _Mode) when is_binary(Token) ->
    not_a_key_set(KeySet);
run(Token, _KeySet, Opts, _Mode) when is_binary(Token) ->
    jwks_verify_badarg:bad_argument(options, Opts, "a map");
run(Token, _KeySet, _Opts, _Mode) ->
    jwks_verify_badarg:bad_argument(token, Token, "a compact JWT as a binary").

%% @doc UNVERIFIED: a token's header and claims, decoded WITHOUT checking
%% anything that makes them true: no signature, no key, no `alg' rule, no
%% claim (not even `exp'). Anyone can forge what this returns, so never use it
%% for an authorization decision; verify the token with {@link verify/3}
%% first. It is for logging a refused token and for choosing, before
%% verifying, which issuer's key set or options to verify with (by `iss' or
%% the header's `kid').
%%
%% The parsing is the strict one {@link verify/3} uses: tokens over 32768
%% bytes are `token_too_large' before any parsing, then `malformed_token'
%% (not three segments), `bad_base64' (any segment, the signature's too),
%% `bad_header' (not a JSON object: UTF-8, no duplicate members, nesting at
%% most 32, numbers within the double range) and `bad_payload' (the same, for
%% the payload).
-spec peek_unverified(binary()) ->
    {ok, #{header := claims(), claims := claims()}} | {error, reason()}.
peek_unverified(Token) ->
    peek_unverified(Token, #{}).

%% @doc {@link peek_unverified/1} with the size limit `verify' was given:
%% `#{max_token_bytes => N}' (the only option; default 32768).
-spec peek_unverified(binary(), #{max_token_bytes => pos_integer()}) ->
    {ok, #{header := claims(), claims := claims()}} | {error, reason()}.
peek_unverified(Token, Opts) when is_binary(Token), is_map(Opts) ->
    case maps:keys(maps:without([max_token_bytes], Opts)) of
        [Unknown | _] -> jwks_verify_badarg:unknown_option(Unknown, [max_token_bytes]);
        [] -> ok
    end,
    Max = case Opts of
              #{max_token_bytes := N} when is_integer(N), N > 0, N < 1 bsl 30 -> N;
              #{max_token_bytes := N} ->
                  jwks_verify_badarg:bad_value(max_token_bytes, N, "a positive integer (bytes)");
              #{} -> 0
          end,
    case jwks_verify_nif:peek_unverified(Token, Max) of
        {ok, {Header, Claims}} -> {ok, #{header => Header, claims => Claims}};
        Error -> Error
    end;
peek_unverified(Token, Opts) when is_binary(Token) ->
    jwks_verify_badarg:bad_argument(options, Opts, "a map");
peek_unverified(Token, _Opts) ->
    jwks_verify_badarg:bad_argument(token, Token, "a compact JWT as a binary").

not_a_key_set(KeySet) ->
    jwks_verify_badarg:bad_argument(key_set, KeySet, "a key set from key_set/1 or a cache name").

%% @doc Checks that verified claims grant every scope in `Required': the
%% token's `scope' (a space-separated string, RFC 9068 §2.2.3 and RFC 8693
%% §4.2) or `scp' (an array, as Azure AD and Okta send, or a string). Scopes
%% compare whole and exactly: `read' does not grant `read:all'. Answers the
%% missing scopes, in the order asked, so a 403 can name them (RFC 6750 §3.1).
-spec check_scopes(claims(), [binary()]) -> ok | {error, {insufficient_scope, [binary()]}}.
check_scopes(Claims, Required) when is_map(Claims), is_list(Required) ->
    lists:all(fun(S) -> is_binary(S) andalso S =/= <<>> end, Required) orelse
        jwks_verify_badarg:bad_argument(scopes, Required, "a list of non-empty binaries"),
    Granted = granted(Claims),
    case [S || S <- Required, not lists:member(S, Granted)] of
        [] -> ok;
        Missing -> {error, {insufficient_scope, Missing}}
    end;
check_scopes(Claims, Required) when is_map(Claims) ->
    jwks_verify_badarg:bad_argument(scopes, Required, "a list of non-empty binaries");
check_scopes(Claims, _Required) ->
    jwks_verify_badarg:bad_argument(claims, Claims, "verified claims (a map)").

granted(Claims) ->
    split_scopes(maps:get(<<"scope">>, Claims, [])) ++ split_scopes(maps:get(<<"scp">>, Claims, [])).

split_scopes(S) when is_binary(S) -> binary:split(S, [<<" ">>], [global, trim_all]);
split_scopes(L) when is_list(L) -> [S || S <- L, is_binary(S)];
split_scopes(_) -> [].

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
%% What the Elixir face's options/1 wraps (an opaque struct with a readable inspect).
options(#{prepared := #jwks_verify_opts{} = Prepared}) ->
    Prepared;
options(Opts) when is_map(Opts) ->
    maps:fold(fun option/3, #jwks_verify_opts{}, Opts);
options(Other) ->
    jwks_verify_badarg:bad_argument(options, Other, "a map").

%% @doc Prepared options as a map of the option names (for logs and `inspect').
-spec options_map(prepared_opts()) -> opts().
options_map(#jwks_verify_opts{algs = Bits, iss = Iss, aud = Aud, leeway = L, now = Now,
                              required = Req, typ = Typ, max_token_bytes = Max}) ->
    Algs = [A || {I, A} <- lists:zip(lists:seq(0, length(?ALGS) - 1), ?ALGS),
                 Bits band (1 bsl I) =/= 0],
    M = #{algs => Algs, leeway => L, required => Req, max_token_bytes => Max},
    maps:merge(M, maps:filter(fun(_, V) -> V =/= [] andalso V =/= undefined end,
                              #{iss => Iss, aud => Aud, now => Now, typ => Typ})).

-define(KNOWN, [algs, iss, aud, leeway, now, required, typ, max_token_bytes]).
%% The NIF reads at most this many values of a list option (nif.c MAX_OPT_LIST).
-define(MAX_VALUES, 64).

%% Every value is checked here, never at verify time; an empty list or string
%% would turn a check off, so it is a mistake, not a wildcard.
option(algs, Algs, O) ->
    O#jwks_verify_opts{algs = algs(Algs)};
option(iss, Iss, O) ->
    O#jwks_verify_opts{iss = values(iss, Iss, "a non-empty binary or a non-empty list of them")};
%% RFC 7519 §4.1.3: without aud, a token that names an audience is refused;
%% `any' is the explicit (and unsafe, RFC 8725 §3.9) way to accept it anyway.
option(aud, any, O) ->
    O#jwks_verify_opts{aud = any};
option(aud, Aud, O) ->
    O#jwks_verify_opts{aud = values(aud, Aud, "a non-empty binary or a non-empty list of them, "
                                              "or the atom any (unsafe: no audience check)")};
option(leeway, L, O) when is_integer(L), L >= 0, L < 1 bsl 40 ->
    O#jwks_verify_opts{leeway = L};
option(leeway, L, _O) ->
    jwks_verify_badarg:bad_value(leeway, L, "a non-negative integer (seconds)");
option(now, Now, O) when is_integer(Now), abs(Now) < 1 bsl 62 ->
    O#jwks_verify_opts{now = Now};
option(now, Now, _O) ->
    jwks_verify_badarg:bad_value(now, Now, "an integer (seconds since the epoch)");
option(required, [], O) ->
    O#jwks_verify_opts{required = []};
option(required, Req, O) when is_list(Req) ->
    O#jwks_verify_opts{required = values(required, Req, "a list of non-empty binaries")};
option(required, Req, _O) ->
    jwks_verify_badarg:bad_value(required, Req, "a list of non-empty binaries");
option(typ, Typ, O) when is_binary(Typ), Typ =/= <<>> ->
    O#jwks_verify_opts{typ = Typ};
option(typ, undefined, O) ->
    O#jwks_verify_opts{typ = undefined};
option(typ, Typ, _O) ->
    jwks_verify_badarg:bad_value(typ, Typ, "a non-empty binary, or undefined");
option(max_token_bytes, N, O) when is_integer(N), N > 0, N < 1 bsl 30 ->
    O#jwks_verify_opts{max_token_bytes = N};
option(max_token_bytes, N, _O) ->
    jwks_verify_badarg:bad_value(max_token_bytes, N, "a positive integer (bytes)");
option(Key, _Value, _O) ->
    jwks_verify_badarg:unknown_option(Key, ?KNOWN).

algs(Algs) when is_list(Algs), Algs =/= [] ->
    try lists:foldl(fun alg_bit/2, 0, Algs)
    catch throw:unsupported -> algs_error(Algs)
    end;
algs(Algs) ->
    algs_error(Algs).

algs_error(Algs) ->
    jwks_verify_badarg:bad_value(algs, Algs, ["a non-empty list of ",
                                              lists:join(", ", ?ALGS)]).

alg_bit(Alg, Acc) ->
    case index_of(Alg, ?ALGS, 0) of
        not_found -> throw(unsupported);
        I -> Acc bor (1 bsl I)
    end.

index_of(X, [X | _], I) -> I;
index_of(X, [_ | T], I) -> index_of(X, T, I + 1);
index_of(_, [], _) -> not_found.

values(Key, B, Expected) when is_binary(B) ->
    values(Key, [B], Expected);
values(Key, L, Expected) when is_list(L), L =/= [], length(L) =< ?MAX_VALUES ->
    case lists:all(fun(V) -> is_binary(V) andalso V =/= <<>> end, L) of
        true -> L;
        false -> jwks_verify_badarg:bad_value(Key, L, Expected)
    end;
values(Key, L, Expected) when is_list(L), L =/= [] ->
    jwks_verify_badarg:bad_value(Key, L, [Expected, " (at most ",
                                          integer_to_list(?MAX_VALUES), " values)"]);
values(Key, Other, Expected) ->
    jwks_verify_badarg:bad_value(Key, Other, Expected).

%% @doc Where verifications run: `auto' (the default) keeps a verification on
%% the calling normal scheduler when its token is at most 8 KiB and no key of
%% the set is an RSA key over 4096 bits, and moves it to a dirty CPU scheduler
%% otherwise; `dirty' moves every verification. The application environment's
%% `verify_scheduler' sets it when the NIF loads; see the README's "Scheduler
%% usage".
-spec verify_scheduler() -> auto | dirty.
verify_scheduler() ->
    jwks_verify_nif:verify_scheduler(current).

%% @doc Sets where verifications run, for the whole VM, from the next call on;
%% answers the setting before. See {@link verify_scheduler/0}.
-spec verify_scheduler(auto | dirty) -> auto | dirty.
verify_scheduler(Mode) when Mode =:= auto; Mode =:= dirty ->
    jwks_verify_nif:verify_scheduler(Mode);
verify_scheduler(Mode) ->
    jwks_verify_badarg:bad_argument(verify_scheduler, Mode, "auto or dirty").

%% @doc Every reason atom the C core can return, in code order (for docs and tests).
-spec reasons() -> [atom()].
reasons() ->
    jwks_verify_nif:reasons().

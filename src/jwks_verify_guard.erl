%% @doc The request guard: the whole bearer-token decision of an HTTP request.
%%
%% Pure functions of prepared configuration, request headers and path, shared
%% by `JwksVerify.Plug' (Phoenix, Plug) and {@link jwks_verify_httpd} (OTP's
%% httpd), so every rule is written and tested once, with no web server:
%% {@link check/3} extracts the bearer token (RFC 6750 §2.1) and verifies it
%% with {@link jwks_verify:verify/3}, answering `{ok, Claims}', `skip' (a
%% public path) or `{error, Reason}'; {@link response/2} turns a reason into
%% the refusal `{Status, Headers, Body}'; {@link decide/3} does both.
%% ```
%% Config = jwks_verify_guard:init([{cache, my_jwks},
%%                                  {iss, <<"https://issuer.example/">>},
%%                                  {aud, <<"my-api">>},
%%                                  {public_paths, [<<"/health">>]}]),
%% case jwks_verify_guard:decide(Config, Headers, Path) of
%%     {ok, Claims} -> serve(Claims);
%%     skip -> serve_public();
%%     {error, _Reason, {Status, RespHeaders, Body}} -> reply(Status, RespHeaders, Body)
%% end.
%% '''
%%
%% == Options ==
%% {@link init/1} takes a proplist or a map, checks it once and raises
%% `{badarg, Description}' (a binary naming the option, the value given and
%% what is expected) on an unknown option or a bad value:
%% <ul>
%% <li>`cache': the name of a running {@link jwks_verify_cache}, looked up on
%%     each request; required unless `key_set' is given. Or a list of names,
%%     one cache per issuer, for several issuers behind one guard
%%     (multi-tenant, staff and customer identity providers): each cache must
%%     be started with its `issuer' ({@link jwks_verify_cache:issuer/1}). The
%%     token's `iss', read unverified, only chooses the cache whose issuer it
%%     equals; the signature, `iss' and every claim are then checked against
%%     that cache and that issuer, so a `kid' that two issuers both use never
%%     selects the other issuer's key. A token whose `iss' names none of them
%%     is `invalid_issuer'; an `iss' that is not a string is
%%     `{invalid_claim, <<"iss">>}' and a token without one
%%     `{missing_claim, <<"iss">>}', before any cache is looked at. When
%%     no cache matches and one of them can't say its issuer (not running,
%%     or started without `issuer'), the answer is `jwks_unavailable'. With a
%%     list, `iss' is refused: the caches' issuers are the accepted ones.</li>
%% <li>`key_set': a key set from {@link jwks_verify:key_set/1}, for static keys
%%     and tests (not `JwksVerify.Plug': a key set can't be compiled into a
%%     Phoenix router).</li>
%% <li>`iss', `aud', `algs', `leeway', `required', `typ', `max_token_bytes':
%%     verification options, as {@link jwks_verify:options/1} takes them.
%%     `now' is refused: a request is always checked against the clock.</li>
%% <li>`scopes': scopes a verified token must all grant, binaries or strings
%%     (`[<<"read:orders">>]'): its `scope' claim (space-separated, RFC 9068
%%     §2.2.3) or `scp' (an array) must hold each one exactly, as
%%     {@link jwks_verify:check_scopes/2} compares them (`read' does not grant
%%     `read:all'). A token that lacks one is refused with `403'. Defaults to
%%     `[]': no scope required.</li>
%% <li>`public_paths': paths served without a token, binaries or strings.
%%     `<<"/public">>' matches that path only (and `/public/');
%%     `<<"/assets/*">>' matches `/assets' and everything below it. Paths are
%%     compared segment by segment, as Phoenix routes them; a request path
%%     with a `.' or `..' segment is never public. Defaults to `[]'.</li>
%% <li>`skip': `{Module, Function}', called as `Module:Function(Path)'; when
%%     it returns `true' the request needs no token.</li>
%% <li>`on_error': `{Module, Function}' that shapes the refusal; the adapter
%%     calls it (see `JwksVerify.Plug' and {@link jwks_verify_httpd}).</li>
%% <li>`assign': the Plug assign that receives the claims, defaults to
%%     `current_user' (unused by httpd).</li>
%% <li>`unavailable_status': the status when the key set can't be had,
%%     defaults to `503': the client is not to blame for an issuer outage.</li>
%% <li>`realm': a `realm' for the `WWW-Authenticate' challenge (printable
%%     ASCII, no `"' or `\'), unset by default.</li>
%% </ul>
%% The result is plain data (atoms, binaries, integers, lists, tuples, maps;
%% a key set reference only with `key_set'): Phoenix embeds it in the
%% compiled router.
%%
%% == Responses ==
%% A refusal has `content-type: application/json', the body
%% `{"error":"<status phrase>","details":"<details>"}' with the fixed ASCII
%% `details' string of the reason ({@link details/1}; it never echoes token
%% bytes) and, as RFC 6750 §3 asks:
%% <ul>
%% <li>no `authorization' header, or another scheme (`Basic ...'): `401' with
%%     `www-authenticate: Bearer', no error code (§3.1);</li>
%% <li>a malformed header (two `authorization' headers, `Bearer' with no
%%     token, whitespace inside the token): `400' with
%%     `error="invalid_request"';</li>
%% <li>a token that fails verification: `401' with `error="invalid_token"'
%%     and an `error_description' equal to `details';</li>
%% <li>a valid token that lacks a scope of `scopes' (`{insufficient_scope,
%%     Missing}'): `403' with `error="insufficient_scope"' and `scope' listing
%%     every scope required, space-separated (§3.1);</li>
%% <li>a key set that can't be had (`jwks_unavailable', or a fetched JWKS
%%     that is unusable): `unavailable_status', no challenge;</li>
%% <li>`internal_error': `500'.</li>
%% </ul>
-module(jwks_verify_guard).

%% Configuration
-export([init/1]).
%% The decision
-export([check/3, response/2, decide/3, bearer/1]).
%% Reasons
-export([details/1, reasons/0]).

-export_type([config/0, headers/0, reason/0, response/0]).

-include("jwks_verify_opts.hrl").

-type config() :: #{
    keys := atom() | [atom(), ...] | jwks_verify:key_set(),
    opts := jwks_verify:prepared_opts(),
    scopes := [binary()],
    assign := atom(),
    public := [{exact | prefix, [binary()]}],
    skip := {module(), atom()} | undefined,
    on_error := {module(), atom()} | undefined,
    unavailable_status := 100..599,
    realm := binary() | undefined
}.
%% Prepared configuration from {@link init/1}: plain data.

-type headers() :: [{binary(), binary()}].
%% Request headers as Plug and Cowboy give them: lowercase names, one entry
%% per header line.

-type reason() ::
    jwks_verify:reason() | missing_token | multiple_authorization | malformed_authorization
    | {insufficient_scope, [binary()]}.
%% What refused a request: a {@link jwks_verify:reason()}, a header problem, or
%% a valid token that lacks required scopes (the missing ones, as
%% {@link jwks_verify:check_scopes/2} names them).

-type response() :: {100..599, headers(), binary()}.
%% A refusal: status, lowercase response headers, JSON body.

-define(VERIFY_KEYS, [iss, aud, algs, leeway, required, typ, max_token_bytes]).
-define(KNOWN, [cache, key_set, scopes, assign, public_paths, skip, on_error,
                unavailable_status, realm | ?VERIFY_KEYS]).

%%--------------------------------------------------------------------
%% Configuration
%%--------------------------------------------------------------------

%% @doc Checks the options once (see the module doc) and returns the prepared
%% configuration. Raises `{badarg, Description}' on an unknown option or a
%% bad value, `Description' a binary naming the option, the value given and
%% what is expected.
-spec init([{atom(), term()}] | #{atom() => term()}) -> config().
init(Opts) when is_map(Opts) ->
    init(maps:to_list(Opts));
init(Opts) when is_list(Opts) ->
    Map = options_map(Opts, #{}),
    %% One after the other, so the first bad option is the one reported.
    Keys = keys(Map),
    VerifyOpts = verify_options(Map),
    Scopes = scopes(maps:get(scopes, Map, [])),
    Assign = assign(maps:get(assign, Map, current_user)),
    Public = public_paths(maps:get(public_paths, Map, [])),
    Skip = mf(skip, maps:get(skip, Map, undefined)),
    OnError = mf(on_error, maps:get(on_error, Map, undefined)),
    Status = status(maps:get(unavailable_status, Map, 503)),
    Realm = realm(maps:get(realm, Map, undefined)),
    #{keys => Keys, opts => VerifyOpts, scopes => Scopes, assign => Assign, public => Public,
      skip => Skip, on_error => OnError, unavailable_status => Status, realm => Realm};
init(Other) ->
    jwks_verify_badarg:bad_argument(options, Other, "a list of {Key, Value} pairs or a map").

options_map([{Key, Value} | Rest], Map) when is_atom(Key) ->
    case lists:member(Key, ?KNOWN) of
        false ->
            _ = Value,
            jwks_verify_badarg:unknown_option(Key, ?KNOWN);
        true when is_map_key(Key, Map) ->
            jwks_verify_badarg:bad_value(Key, Value, "the option once (it is given twice)");
        true ->
            options_map(Rest, Map#{Key => Value})
    end;
options_map([], Map) ->
    Map;
options_map([Other | _], _Map) ->
    jwks_verify_badarg:bad_argument(options, Other, "{Key, Value} pairs with an atom key").

keys(#{cache := _, key_set := _}) ->
    jwks_verify_badarg:error("give the option cache or key_set, not both");
keys(#{cache := [_ | _], iss := _}) ->
    jwks_verify_badarg:error("give the option iss or several caches, not both: with several "
                             "caches, the issuer each cache is started with is the one it "
                             "accepts");
keys(#{cache := [_ | _] = Names}) ->
    case lists:all(fun cache_name/1, Names) andalso length(lists:usort(Names)) =:= length(Names) of
        true -> Names;
        false -> bad_cache(Names)
    end;
keys(#{cache := Name}) ->
    case cache_name(Name) of
        true -> Name;
        false -> bad_cache(Name)
    end;
keys(#{key_set := KeySet}) ->
    %% A reference that is no key set would fail every request: refuse it now.
    try jwks_verify:key_set_info(KeySet) of
        _ -> KeySet
    catch
        error:{badarg, _} ->
            jwks_verify_badarg:bad_value(key_set, KeySet, "a key set from jwks_verify:key_set/1")
    end;
keys(#{}) ->
    jwks_verify_badarg:error("the option cache (the name of a jwks_verify_cache) is required, "
                             "or key_set (a key set from jwks_verify:key_set/1)").

cache_name(Name) ->
    is_atom(Name) andalso Name =/= undefined andalso Name =/= nil andalso Name =/= true
        andalso Name =/= false.

bad_cache(Bad) ->
    jwks_verify_badarg:bad_value(cache, Bad, "the atom naming a jwks_verify_cache, or a "
                                             "non-empty list of distinct ones (one per issuer)").

verify_options(Map) ->
    jwks_verify:options(maps:with(?VERIFY_KEYS, Map)).

%% RFC 6749 §3.3 scope-token: %x21 / %x23-5B / %x5D-7E, so each one can be
%% quoted in the challenge's scope="..." (RFC 6750 §3) and none holds a space.
scopes(Scopes) when is_list(Scopes) ->
    [scope(S) || S <- Scopes];
scopes(Bad) ->
    bad_scopes(Bad).

scope(S) when is_list(S) ->
    case catch unicode:characters_to_binary(S) of
        Bin when is_binary(Bin) -> scope(Bin);
        _ -> bad_scopes(S)
    end;
scope(S) when is_binary(S), S =/= <<>> ->
    case lists:all(fun(C) -> C =/= $\s andalso quotable_char(C) end, binary_to_list(S)) of
        true -> S;
        false -> bad_scopes(S)
    end;
scope(Bad) ->
    bad_scopes(Bad).

bad_scopes(Bad) ->
    jwks_verify_badarg:bad_value(scopes, Bad, "a list of scopes, each a non-empty string of "
                                              "printable ASCII without spaces, \" or \\").

assign(Atom) when is_atom(Atom), Atom =/= undefined, Atom =/= nil,
                  Atom =/= true, Atom =/= false ->
    Atom;
assign(Bad) ->
    jwks_verify_badarg:bad_value(assign, Bad, "an atom (the key of the claims)").

mf(_Key, undefined) ->
    undefined;
mf(_Key, nil) ->
    undefined;
mf(_Key, {M, F}) when is_atom(M), is_atom(F) ->
    {M, F};
mf(Key, Bad) ->
    jwks_verify_badarg:bad_value(Key, Bad, "a {Module, Function} tuple").

%% A 2xx here would let every request through while the keys are missing.
status(S) when is_integer(S), S >= 500, S =< 599 ->
    S;
status(Bad) ->
    jwks_verify_badarg:bad_value(unavailable_status, Bad, "a 5xx status code (500..599)").

realm(undefined) ->
    undefined;
realm(nil) ->
    undefined;
realm(Realm) when is_binary(Realm) ->
    case quotable(Realm) of
        true -> Realm;
        false -> bad_realm(Realm)
    end;
realm(Realm) when is_list(Realm) ->
    case catch unicode:characters_to_binary(Realm) of
        Bin when is_binary(Bin) -> realm(Bin);
        _ -> bad_realm(Realm)
    end;
realm(Bad) ->
    bad_realm(Bad).

bad_realm(Bad) ->
    jwks_verify_badarg:bad_value(realm, Bad, "a string of printable ASCII without \" or \\").

public_paths(Paths) when is_list(Paths) ->
    [public_path(P) || P <- Paths];
public_paths(Bad) ->
    jwks_verify_badarg:bad_value(public_paths, Bad, "a list of paths").

public_path(Path) when is_list(Path) ->
    case catch unicode:characters_to_binary(Path) of
        Bin when is_binary(Bin) -> public_path(Bin);
        _ -> jwks_verify_badarg:bad_value(public_paths, Path, "paths as binaries or strings")
    end;
public_path(<<"/", _/binary>> = Path) ->
    Size = byte_size(Path) - 2,
    {Kind, Prefix} =
        case Path of
            <<Head:Size/binary, "/*">> -> {prefix, Head};
            _ -> {exact, Path}
        end,
    case {segments(Prefix), binary:match(Prefix, <<"*">>)} of
        {Segments, nomatch} when is_list(Segments) ->
            {Kind, Segments};
        _ ->
            jwks_verify_badarg:bad_value(public_paths, Path,
                                         "paths with no . or .. segments and * only as "
                                         "a last segment (/assets/*)")
    end;
public_path(Bad) ->
    jwks_verify_badarg:bad_value(public_paths, Bad, "paths that start with /").

%%--------------------------------------------------------------------
%% The decision
%%--------------------------------------------------------------------

%% @doc Decides a request: `{ok, Claims}' for a valid bearer token, `skip'
%% for a public path (no token needed, none read), `{error, Reason}'
%% otherwise. `Headers' are lowercase-named; every `authorization' entry
%% must be there (two of them are refused). `Path' is the request path,
%% without query string.
-spec check(config(), headers(), binary()) ->
    {ok, jwks_verify:claims()} | skip | {error, reason()}.
check(#{public := [], skip := undefined} = Config, Headers, _Path) ->
    authenticate(Config, Headers);
check(Config, Headers, Path) ->
    case public(Config, Path) of
        true -> skip;
        false -> authenticate(Config, Headers)
    end.

%% @doc {@link check/3} with the refusal already made: `{error, Reason,
%% {Status, Headers, Body}}' on failure, as {@link response/2} makes it.
%% When `telemetry' is loaded, emits `[jwks_verify, guard, stop]' (duration,
%% outcome, reason, status, cache) or `[jwks_verify, guard, exception]'
%% (the README's Telemetry section).
-spec decide(config(), headers(), binary()) ->
    {ok, jwks_verify:claims()} | skip | {error, reason(), response()}.
decide(Config, Headers, Path) ->
    case jwks_verify_cache_report:enabled() of
        false -> decision(Config, Headers, Path);
        true -> jwks_verify_cache_report:guard_span(maps:get(keys, Config, nil),
                                                    fun() -> decision(Config, Headers, Path) end)
    end.

decision(Config, Headers, Path) ->
    case check(Config, Headers, Path) of
        {error, Reason} -> {error, Reason, response(Config, Reason)};
        OkOrSkip -> OkOrSkip
    end.

%% @doc The bearer token of a request (RFC 6750 §2.1): exactly one
%% `authorization' header, scheme `Bearer' in any case, one or more spaces,
%% then one token with no whitespace in it. Another scheme counts as no token
%% at all (§3.1): `{error, missing_token}'.
-spec bearer(headers()) -> {ok, binary()} | {error, reason()}.
bearer(Headers) ->
    case credentials(Headers) of
        {ok, Token} ->
            case whitespace(Token) of
                true -> {error, malformed_authorization};
                false -> {ok, Token}
            end;
        Error ->
            Error
    end.

authenticate(#{keys := Keys, opts := Opts, scopes := Scopes}, Headers) ->
    case credentials(Headers) of
        {ok, Token} ->
            case verify(Token, Keys, Opts) of
                {ok, Claims} ->
                    authorize(Claims, Scopes);
                Error ->
                    %% Whitespace is looked for only once verification failed:
                    %% strict base64url never verifies with it, so valid
                    %% tokens skip the scan.
                    case whitespace(Token) of
                        true -> {error, malformed_authorization};
                        false -> Error
                    end
            end;
        Error ->
            Error
    end.

verify(Token, Caches, Opts) when is_list(Caches) ->
    case select(Token, Caches, Opts) of
        {ok, Cache, Iss} -> jwks_verify:verify(Token, Cache, issuer(Opts, Iss));
        Error -> Error
    end;
verify(Token, Keys, Opts) ->
    jwks_verify:verify(Token, Keys, Opts).

%% Several issuers (multi-tenant, staff and customer IdPs): the token's iss,
%% read unverified, only chooses the cache whose issuer it names. The
%% signature and every claim are then checked against that cache's keys, iss
%% equal to that cache's issuer: a kid that two issuers both use can only
%% ever select the chosen issuer's key.
select(Token, _Caches, #jwks_verify_opts{max_token_bytes = Max}) when byte_size(Token) > Max ->
    {error, token_too_large};
select(Token, Caches, _Opts) ->
    case jwks_verify:peek_unverified(Token) of
        {ok, #{claims := #{<<"iss">> := Iss}}} when is_binary(Iss) -> cache_of(Iss, Caches, []);
        {ok, #{claims := #{<<"iss">> := _}}} -> {error, {invalid_claim, <<"iss">>}};
        {ok, #{claims := _}} -> {error, {missing_claim, <<"iss">>}};
        {error, _} = Error -> Error
    end.

%% Caches are looked up by name on each request, as with one cache. A cache
%% that can't say its issuer (not running, or started without one) might be
%% the token's: that is the server's fault, not an unknown issuer.
cache_of(Iss, [Cache | Rest], Unknown) ->
    case jwks_verify_cache:issuer(Cache) of
        Iss -> {ok, Cache, Iss};
        undefined -> cache_of(Iss, Rest, [Cache | Unknown]);
        _Other -> cache_of(Iss, Rest, Unknown)
    end;
cache_of(_Iss, [], []) ->
    {error, invalid_issuer};
cache_of(_Iss, [], _Unknown) ->
    {error, jwks_unavailable}.

%% The options prepared once by init/1 with the chosen issuer in: iss is a
%% non-empty binary, as jwks_verify:options/1 would have checked it.
issuer(Opts, Iss) ->
    Opts#jwks_verify_opts{iss = [Iss]}.

%% Scopes are looked at only in a verified token: a 403 says who the caller
%% is, and is not to be earned with a forged one.
authorize(Claims, []) ->
    {ok, Claims};
authorize(Claims, Scopes) ->
    case jwks_verify:check_scopes(Claims, Scopes) of
        ok -> {ok, Claims};
        Error -> Error
    end.

credentials(Headers) ->
    case authorization(Headers, undefined) of
        undefined -> {error, missing_token};
        many -> {error, multiple_authorization};
        Value -> scheme(trim(Value))
    end.

authorization([{<<"authorization">>, V} | Rest], undefined) -> authorization(Rest, V);
authorization([{<<"authorization">>, _} | _], _) -> many;
authorization([_ | Rest], Acc) -> authorization(Rest, Acc);
authorization([], Acc) -> Acc.

scheme(<<"Bearer", Rest/binary>>) -> bearer_credentials(Rest);
scheme(<<"bearer", Rest/binary>>) -> bearer_credentials(Rest);
scheme(<<Scheme:6/binary, Rest/binary>>) ->
    case << <<(lower(C))>> || <<C>> <= Scheme >> of
        <<"bearer">> -> bearer_credentials(Rest);
        _ -> {error, missing_token}
    end;
scheme(_OtherScheme) ->
    {error, missing_token}.

%% "Bearer" alone is a malformed bearer header; "Bearerx ..." is another
%% scheme, as "Basic ..." is.
bearer_credentials(<<>>) -> {error, malformed_authorization};
bearer_credentials(<<C, Rest/binary>>) when C =:= $\s; C =:= $\t -> token(trim_leading(Rest));
bearer_credentials(_) -> {error, missing_token}.

token(<<>>) -> {error, malformed_authorization};
token(Token) -> {ok, Token}.

lower(C) when C >= $A, C =< $Z -> C + 32;
lower(C) -> C.

%% One single-byte pattern at a time: far cheaper than a list pattern.
whitespace(Token) ->
    binary:match(Token, <<" ">>) =/= nomatch orelse binary:match(Token, <<"\t">>) =/= nomatch.

trim(Value) ->
    trim_trailing(trim_leading(Value)).

trim_leading(<<C, Rest/binary>>) when C =:= $\s; C =:= $\t -> trim_leading(Rest);
trim_leading(Value) -> Value.

trim_trailing(Value) ->
    Size = byte_size(Value) - 1,
    case Value of
        <<Head:Size/binary, C>> when C =:= $\s; C =:= $\t -> trim_trailing(Head);
        _ -> Value
    end.

%% Public paths

public(#{public := Public, skip := Skip}, Path) ->
    matches_public(Public, Path) orelse skip(Skip, Path).

matches_public([], _Path) ->
    false;
matches_public(Public, Path) ->
    case segments(Path) of
        dot_segment -> false;
        Segments -> lists:any(fun(P) -> match_path(P, Segments) end, Public)
    end.

match_path({exact, Want}, Segments) -> Want =:= Segments;
match_path({prefix, Want}, Segments) -> lists:prefix(Want, Segments).

skip(undefined, _Path) -> false;
skip({M, F}, Path) -> M:F(Path) =:= true.

%% Segments as Phoenix splits them (empty ones dropped); dot_segment for "."
%% or "..", which some servers resolve and some routers don't.
segments(Path) ->
    Segments = binary:split(Path, <<"/">>, [global, trim_all]),
    case lists:member(<<".">>, Segments) orelse lists:member(<<"..">>, Segments) of
        true -> dot_segment;
        false -> Segments
    end.

%%--------------------------------------------------------------------
%% Responses
%%--------------------------------------------------------------------

%% @doc The refusal for a reason: `{Status, Headers, Body}' with lowercase
%% header names and the body `{"error":"<status phrase>","details":"<details>"}'
%% (see the module doc for the status and challenge of each kind of reason).
%% An unknown reason is an invalid token, not a crash.
-spec response(config(), reason()) -> response().
response(Config, Reason) ->
    {Class, Details} = classify(Reason),
    Status = status(Class, Config),
    %% Details and phrases are fixed ASCII without " or \ (claim names are
    %% sanitized): no JSON encoder needed.
    Body = <<"{\"error\":\"", (phrase(Status))/binary, "\",\"details\":\"", Details/binary,
             "\"}">>,
    Headers = [{<<"content-type">>, <<"application/json">>}
               | challenge(Class, Status, Details, Config)],
    {Status, Headers, Body}.

%% @doc The stable `details' string of a reason, fixed ASCII that never
%% echoes token bytes; `{missing_claim, Name}' and `{invalid_claim, Name}'
%% name the claim (made header-safe, at most 64 bytes).
%% ```
%% <<"token expired">> = jwks_verify_guard:details(expired),
%% <<"missing claim: aud">> = jwks_verify_guard:details({missing_claim, <<"aud">>}).
%% '''
-spec details(reason()) -> binary().
details(Reason) ->
    element(2, classify(Reason)).

%% @doc Every reason {@link details/1} knows, with its string (for docs and tests).
-spec reasons() -> #{atom() => binary()}.
reasons() ->
    maps:map(fun(_Reason, {_Class, Details}) -> Details end, reason_table()).

%% {Class, Details}: Class picks the status and challenge; token is 401 with
%% error="invalid_token".
reason_table() ->
    #{missing_token => {missing, <<"missing bearer token">>},
      multiple_authorization => {request, <<"multiple authorization headers">>},
      malformed_authorization => {request, <<"malformed authorization header">>},
      token_too_large => {token, <<"token too large">>},
      malformed_token => {token, <<"malformed token">>},
      bad_base64 => {token, <<"invalid base64url encoding">>},
      bad_header => {token, <<"invalid token header">>},
      alg_none => {token, <<"unsigned token">>},
      unsupported_alg => {token, <<"unsupported algorithm">>},
      alg_not_allowed => {token, <<"algorithm not allowed">>},
      embedded_key => {token, <<"embedded key not allowed">>},
      unsupported_crit => {token, <<"unsupported critical header">>},
      invalid_typ => {token, <<"invalid token type">>},
      unknown_kid => {token, <<"unknown key id">>},
      ambiguous_kid => {token, <<"ambiguous key id">>},
      no_matching_key => {token, <<"no matching key">>},
      key_alg_mismatch => {token, <<"key algorithm mismatch">>},
      key_type_mismatch => {token, <<"key type mismatch">>},
      key_not_for_signing => {token, <<"key not for signing">>},
      private_key => {token, <<"private key in jwks">>},
      rsa_key_too_small => {token, <<"rsa key too small">>},
      weak_rsa_exponent => {token, <<"weak rsa exponent">>},
      roca_weak_key => {token, <<"weak rsa key">>},
      invalid_ec_point => {token, <<"invalid ec point">>},
      invalid_key => {token, <<"invalid key">>},
      unsupported_key => {token, <<"unsupported key">>},
      bad_signature_length => {token, <<"invalid signature length">>},
      signature_out_of_range => {token, <<"signature out of range">>},
      bad_signature => {token, <<"invalid signature">>},
      bad_payload => {token, <<"invalid token payload">>},
      invalid_claim => {token, <<"invalid claim">>},
      missing_claim => {token, <<"missing claim">>},
      expired => {token, <<"token expired">>},
      not_yet_valid => {token, <<"token not yet valid">>},
      issued_in_future => {token, <<"token issued in the future">>},
      invalid_issuer => {token, <<"invalid issuer">>},
      invalid_audience => {token, <<"invalid audience">>},
      jwks_too_large => {unavailable, <<"jwks too large">>},
      bad_json => {unavailable, <<"jwks is not json">>},
      bad_jwks => {unavailable, <<"invalid jwks">>},
      too_many_keys => {unavailable, <<"too many keys in jwks">>},
      jwks_unavailable => {unavailable, <<"jwks unavailable">>},
      insufficient_scope => {scope, <<"insufficient scope">>},
      internal_error => {internal, <<"internal error">>}}.

classify({Tag, Name}) when (Tag =:= missing_claim orelse Tag =:= invalid_claim),
                           is_binary(Name) ->
    {Class, Details} = maps:get(Tag, reason_table()),
    {Class, <<Details/binary, ": ", (sanitize(Name))/binary>>};
classify({insufficient_scope, Missing}) when is_list(Missing) ->
    maps:get(insufficient_scope, reason_table());
classify(Reason) when is_atom(Reason) ->
    maps:get(Reason, reason_table(), {token, <<"invalid token">>});
classify(_Other) ->
    {token, <<"invalid token">>}.

status(missing, _) -> 401;
status(token, _) -> 401;
status(request, _) -> 400;
status(scope, _) -> 403;
status(unavailable, #{unavailable_status := Status}) -> Status;
status(internal, _) -> 500.

%% RFC 6750 §3: no error code when no token came; invalid_request (400) for
%% a malformed header; invalid_token (401) for a token that fails;
%% insufficient_scope (403) for a valid token without the scopes asked.
challenge(missing, _Status, _Details, Config) ->
    [{<<"www-authenticate">>, challenge_value(Config, [])}];
challenge(request, 400, Details, Config) ->
    [{<<"www-authenticate">>,
      challenge_value(Config, [{<<"error">>, <<"invalid_request">>},
                               {<<"error_description">>, Details}])}];
challenge(scope, 403, _Details, #{scopes := Scopes} = Config) ->
    %% §3.1: the scope attribute names what the resource needs, all of it.
    Scope = [{<<"scope">>, iolist_to_binary(lists:join(<<" ">>, Scopes))} || Scopes =/= []],
    [{<<"www-authenticate">>,
      challenge_value(Config, [{<<"error">>, <<"insufficient_scope">>} | Scope])}];
challenge(_Class, 401, Details, Config) ->
    [{<<"www-authenticate">>,
      challenge_value(Config, [{<<"error">>, <<"invalid_token">>},
                               {<<"error_description">>, Details}])}];
challenge(_Class, _Status, _Details, _Config) ->
    [].

challenge_value(#{realm := undefined}, []) ->
    <<"Bearer">>;
challenge_value(#{realm := undefined}, Params) ->
    params(Params);
challenge_value(#{realm := Realm}, Params) ->
    params([{<<"realm">>, Realm} | Params]).

params(Params) ->
    Quoted = [<<K/binary, "=\"", V/binary, "\"">> || {K, V} <- Params],
    iolist_to_binary(["Bearer " | lists:join(", ", Quoted)]).

%% error_description allows %x20-21 / %x23-5B / %x5D-7E (RFC 6750 §3); claim
%% names in details are ours or registered ones, but keep the header (and
%% the JSON string) well-formed whatever comes, and short.
sanitize(Name) ->
    Short = binary:part(Name, 0, min(byte_size(Name), 64)),
    << <<(case quotable_char(C) of true -> C; false -> $? end)>> || <<C>> <= Short >>.

quotable(S) ->
    lists:all(fun quotable_char/1, binary_to_list(S)).

quotable_char(C) ->
    C >= 16#20 andalso C =< 16#7E andalso C =/= $" andalso C =/= $\\.

phrase(400) -> <<"Bad Request">>;
phrase(401) -> <<"Unauthorized">>;
phrase(403) -> <<"Forbidden">>;
phrase(500) -> <<"Internal Server Error">>;
phrase(502) -> <<"Bad Gateway">>;
phrase(503) -> <<"Service Unavailable">>;
phrase(504) -> <<"Gateway Timeout">>;
phrase(Status) -> integer_to_binary(Status).

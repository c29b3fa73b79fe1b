%% The bare-Erlang run of test/bare_erlang_test.exs: started in an `erl'
%% whose code path holds OTP and the Erlang build of src/ only (no Elixir),
%% it uses jwks_verify as a plain Erlang user would: key_set/1 and verify/3,
%% a cache with a static JWKS and one fetching from a loopback issuer, and
%% OTP's httpd guarded by jwks_verify_httpd. Tokens are signed here with
%% public_key:sign/3, never with jwks_verify. Prints one line per check
%% ("ok NAME" or "FAIL NAME: ...") and halts with 0 only when all pass.
-module(jwks_verify_bare).

-export([main/0]).
%% httpd module callback: the issuer and the API behind the guard
-export([do/1]).

-include_lib("inets/include/httpd.hrl").

-define(ISS, <<"https://issuer.test/">>).
-define(AUD, <<"api.test">>).
-define(OPTS, #{iss => ?ISS, aud => ?AUD}).

-define(CHECK(Name, Pattern, Expr),
        check(Name, fun() ->
                        case Expr of
                            Pattern -> ok;
                            Other__ -> {unexpected, Other__}
                        end
                    end)).

-spec main() -> no_return().
main() ->
    try run() of
        0 -> io:format("bare erlang: all checks ok~n"), halt(0);
        Failed -> io:format("bare erlang: ~b check(s) failed~n", [Failed]), halt(1)
    catch
        Class:Reason:Stack ->
            io:format("CRASH ~p:~p~n~p~n", [Class, Reason, Stack]),
            halt(2)
    end.

run() ->
    put(failed, 0),
    ?CHECK("no elixir on the code path", {{error, bad_name}, non_existing},
           {code:lib_dir(elixir), code:which('Elixir.Kernel')}),

    Key = public_key:generate_key({rsa, 2048, 65537}),
    Jwks = jwks(Key, <<"k1">>),
    Now = erlang:system_time(second),
    Valid = sign(Key, <<"k1">>, claims(<<"alice">>, Now + 300)),
    Expired = sign(Key, <<"k1">>, claims(<<"alice">>, Now - 60)),

    %% jwks_verify: key_set/1, verify/3
    {ok, KeySet} = jwks_verify:key_set(Jwks),
    ?CHECK("jwks_verify:key_set/1", #{usable := 1}, jwks_verify:key_set_info(KeySet)),
    ?CHECK("jwks_verify:verify/3 valid", {ok, #{<<"sub">> := <<"alice">>}},
           jwks_verify:verify(Valid, KeySet, ?OPTS)),
    ?CHECK("jwks_verify:verify/3 expired", {error, expired},
           jwks_verify:verify(Expired, KeySet, ?OPTS)),
    ?CHECK("jwks_verify:verify/3 wrong audience", {error, invalid_audience},
           jwks_verify:verify(Valid, KeySet, #{iss => ?ISS, aud => <<"other">>})),
    ?CHECK("jwks_verify:verify/3 tampered", {error, bad_signature},
           jwks_verify:verify(tamper(Valid), KeySet, ?OPTS)),

    %% A cache with a static JWKS
    ?CHECK("jwks_verify_cache static start", {ok, _},
           jwks_verify_cache:start_link(static_jwks, #{jwks => Jwks})),
    ?CHECK("jwks_verify_cache static verify", {ok, #{<<"sub">> := <<"alice">>}},
           jwks_verify:verify(Valid, static_jwks, ?OPTS)),

    %% A cache fetching from a loopback issuer (OTP's httpd)
    {ok, _} = application:ensure_all_started(inets),
    {ok, Issuer} = httpd([{modules, [?MODULE]}, {jwks_verify_bare_jwks, Jwks}]),
    JwksUri = url(Issuer, "/.well-known/jwks.json"),
    ?CHECK("jwks_verify_cache http start", {ok, _},
           jwks_verify_cache:start_link(http_jwks, #{jwks_uri => list_to_binary(JwksUri),
                                                     allow_http => true,
                                                     await_first_fetch => 5000})),
    ?CHECK("jwks_verify_cache http status", fresh, jwks_verify_cache:status(http_jwks)),
    ?CHECK("jwks_verify_cache http verify", {ok, #{<<"sub">> := <<"alice">>}},
           jwks_verify:verify(Valid, http_jwks, ?OPTS)),

    %% OTP's httpd guarded by jwks_verify_httpd, with the fetching cache
    {ok, Api} = httpd([{modules, [jwks_verify_httpd, ?MODULE]},
                       {jwks_verify, [{cache, http_jwks}, {iss, ?ISS}, {aud, ?AUD},
                                      {public_paths, [<<"/public">>]}]}]),
    Me = url(Api, "/api/me"),
    ?CHECK("httpd /public", {200, _, <<"public">>}, get(url(Api, "/public"), [])),
    ?CHECK("httpd no token", {401, #{"www-authenticate" := "Bearer"},
                              <<"{\"error\":\"Unauthorized\",\"details\":\"missing bearer token\"}">>},
           get(Me, [])),
    ?CHECK("httpd valid token", {200, _, <<"hello alice">>}, get(Me, bearer(Valid))),
    ?CHECK("httpd expired token",
           {401, #{"www-authenticate" :=
                       "Bearer error=\"invalid_token\", error_description=\"token expired\""}, _},
           get(Me, bearer(Expired))),
    ?CHECK("httpd Bearer without a token",
           {400, #{"www-authenticate" := "Bearer error=\"invalid_request\"" ++ _}, _},
           get(Me, [{"authorization", "Bearer"}])),

    %% A bad guard option fails the start of httpd, saying which
    ?CHECK("httpd bad guard option", {error, true},
           case httpd([{modules, [jwks_verify_httpd]},
                       {jwks_verify, [{cache, http_jwks}, {leeway, -1}]}]) of
               {error, Error} -> {error, has_description(Error, <<"option leeway">>)};
               Other -> Other
           end),

    ok = inets:stop(httpd, Api),
    ok = inets:stop(httpd, Issuer),
    ?CHECK("no elixir module loaded", [],
           [M || {M, _} <- code:all_loaded(), lists:prefix("Elixir.", atom_to_list(M))]),
    get(failed).

check(Name, Fun) ->
    Result = try Fun() catch Class:Reason -> {Class, Reason} end,
    case Result of
        ok ->
            io:format("ok ~ts~n", [Name]);
        Failure ->
            put(failed, get(failed) + 1),
            io:format("FAIL ~ts: ~0tP~n", [Name, Failure, 30])
    end.

%% Keys and tokens, with public_key

jwks(Key, Kid) ->
    {'RSAPrivateKey', _, N, E, _, _, _, _, _, _, _} = Key,
    <<"{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"", Kid/binary, "\",\"alg\":\"RS256\",\"use\":\"sig\","
      "\"n\":\"", (b64url(binary:encode_unsigned(N)))/binary, "\",\"e\":\"",
      (b64url(binary:encode_unsigned(E)))/binary, "\"}]}">>.

claims(Sub, Exp) ->
    iolist_to_binary(["{\"iss\":\"", ?ISS, "\",\"aud\":\"", ?AUD, "\",\"sub\":\"", Sub,
                      "\",\"exp\":", integer_to_binary(Exp), "}"]).

sign(Key, Kid, Claims) ->
    Header = <<"{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"", Kid/binary, "\"}">>,
    Input = <<(b64url(Header))/binary, ".", (b64url(Claims))/binary>>,
    <<Input/binary, ".", (b64url(public_key:sign(Input, sha256, Key)))/binary>>.

%% Another payload under the same signature.
tamper(Token) ->
    [H, _P, S] = binary:split(Token, <<".">>, [global]),
    Admin = b64url(claims(<<"admin">>, erlang:system_time(second) + 300)),
    <<H/binary, ".", Admin/binary, ".", S/binary>>.

%% RFC 7515 §2 (OTP 25's base64 has no URL mode).
b64url(Bin) ->
    << <<(case C of $+ -> $-; $/ -> $_; _ -> C end)>>
       || <<C>> <= base64:encode(Bin), C =/= $= >>.

bearer(Token) ->
    [{"authorization", "Bearer " ++ binary_to_list(Token)}].

%% Servers and requests

httpd(Props) ->
    inets:start(httpd, [{port, 0}, {bind_address, {127, 0, 0, 1}},
                        {server_name, "bare"}, {server_root, "/tmp"},
                        {document_root, "/tmp"} | Props]).

url(Httpd, Path) ->
    [{port, Port}] = httpd:info(Httpd, [port]),
    "http://127.0.0.1:" ++ integer_to_list(Port) ++ Path.

get(Url, Headers) ->
    {ok, {{_, Status, _}, RespHeaders, Body}} =
        httpc:request(get, {Url, Headers}, [{timeout, 5000}], [{body_format, binary}]),
    {Status, maps:from_list(RespHeaders), Body}.

has_description({jwks_verify, Description}, Want) when is_binary(Description) ->
    binary:match(Description, Want) =/= nomatch;
has_description(Term, Want) when is_tuple(Term) ->
    has_description(tuple_to_list(Term), Want);
has_description(List, Want) when is_list(List) ->
    lists:any(fun(T) -> has_description(T, Want) end, List);
has_description(_, _) ->
    false.

%% The issuer (when httpd has a jwks_verify_bare_jwks property) and the API
%% after jwks_verify_httpd.
do(#mod{config_db = Db, data = Data} = ModData) ->
    case {proplists:is_defined(response, Data), httpd_util:lookup(Db, jwks_verify_bare_jwks)} of
        {true, _} ->
            {proceed, Data};
        {false, undefined} ->
            reply(case jwks_verify_httpd:claims(ModData) of
                      undefined -> <<"public">>;
                      #{<<"sub">> := Sub} -> <<"hello ", Sub/binary>>
                  end);
        {false, Jwks} ->
            reply(Jwks)
    end.

reply(Body) ->
    Head = [{code, 200}, {content_type, "application/octet-stream"},
            {content_length, integer_to_list(byte_size(Body))}],
    {proceed, [{response, {response, Head, [Body]}}]}.

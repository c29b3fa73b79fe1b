%% @doc The runnable demo behind `make demo': an identity provider and a
%% protected API on loopback, and the requests a reader wants to see answered.
%%
%% On 127.0.0.1 it starts, with OTP's httpd:
%% <ul>
%% <li>an issuer ({@link jwks_verify_demo_issuer}) serving a freshly generated
%%     RSA key as a JWKS at `/.well-known/jwks.json' (keys and tokens come
%%     from `jwks_verify_signer');</li>
%% <li>a `jwks_verify_cache' fetching that JWKS over HTTP;</li>
%% <li>an API ({@link jwks_verify_demo_api}) guarded by `jwks_verify_httpd':
%%     `/api/protected' answers `{"message":"Access granted","user":Claims}'
%%     and `/public' needs no token.</li>
%% </ul>
%% Then it sends the requests (no token, a tampered, an expired and a
%% wrong-issuer token, a valid one, a key rotation) with httpc, prints a table
%% of outcomes with the time of each request, measures the latency of a valid
%% request, and stops everything.
-module(jwks_verify_demo).

-export([main/0, run/0, run/1]).

-export_type([result/0]).

-define(AUD, <<"demo-api">>).
-define(CACHE, jwks_verify_demo_jwks).
-define(SAMPLES, 500).

%% One played scenario.
-type result() :: #{scenario := binary(), request := binary(), expected := pos_integer(),
                    status := pos_integer(), details := binary(),
                    micros := non_neg_integer(), headers := [{string(), string()}],
                    body := binary()}.

%% @doc Runs the demo for `make demo', raising when a scenario has an
%% unexpected outcome.
-spec main() -> ok.
main() ->
    case run() of
        {ok, _Results} ->
            ok;
        {error, Results} ->
            erlang:error({unexpected_outcomes,
                          [S || #{scenario := S, status := St, expected := E} <- Results,
                                St =/= E]})
    end.

%% @equiv run(#{})
-spec run() -> {ok, [result()]} | {error, [result()]}.
run() ->
    run(#{}).

%% @doc Plays the demo, printing as it goes; `{ok, Results}' when every
%% scenario had its expected outcome, `{error, Results}' otherwise.
%% Options: `samples' - how many valid requests the latency figures are
%% measured over, 500 by default.
-spec run(#{samples => pos_integer()}) -> {ok, [result()]} | {error, [result()]}.
run(Opts) ->
    {ok, _} = application:ensure_all_started(inets),
    {ok, _} = application:ensure_all_started(jwks_verify),
    Started = erlang:monotonic_time(millisecond),
    %% The cache logs its fetches at info level; the table tells the story here.
    #{level := Level} = logger:get_primary_config(),
    ok = logger:set_primary_config(level, warning),

    Key1 = jwks_verify_signer:generate_key(<<"RS256">>, #{kid => <<"demo-key-1">>}),
    Issuer = jwks_verify_demo_issuer:start(jwks_verify_signer:jwks([Key1])),
    #{base := IssuerBase, jwks_uri := JwksUri} = Issuer,
    Iss = list_to_binary(IssuerBase ++ "/"),
    {ok, _} = jwks_verify_cache:start_link(?CACHE, #{jwks_uri => JwksUri, allow_http => true,
                                                     await_first_fetch => 5000}),
    fresh = jwks_verify_cache:status(?CACHE),
    Api = jwks_verify_demo_api:start([{cache, ?CACHE}, {iss, Iss}, {aud, ?AUD},
                                      {public_paths, [<<"/public">>]}]),
    #{base := ApiBase} = Api,
    try
        info("jwks_verify demo"),
        info(["  issuer  ", JwksUri, " (RSA 2048, kid demo-key-1)"]),
        info(["  API     ", ApiBase, "/api/protected, guarded by jwks_verify_httpd; /public open"]),
        info(""),

        Key2 = jwks_verify_signer:generate_key(<<"RS256">>, #{kid => <<"demo-key-2">>}),
        Results = play(ApiBase, Iss, Key1, Key2, Issuer),
        print_table(Results),
        print_bodies(Results),
        print_latency(ApiBase, Iss, Key2, maps:get(samples, Opts, ?SAMPLES)),

        Hits = jwks_verify_demo_issuer:hits(Issuer),
        Ok = lists:all(fun(#{status := S, expected := E}) -> S =:= E end, Results),
        Took = erlang:monotonic_time(millisecond) - Started,
        info(""),
        info(["JWKS requests the issuer served: ", integer_to_list(Hits),
              case Hits of
                  2 -> " (the first fetch, then one refetch for the new kid).";
                  _ -> "."
              end]),
        case Ok of
            true ->
                info(io_lib:format("All ~b scenarios as expected, in ~b ms.",
                                   [length(Results), Took])),
                {ok, Results};
            false ->
                info("UNEXPECTED outcomes, see the table."),
                {error, Results}
        end
    after
        ok = logger:set_primary_config(level, Level),
        jwks_verify_demo_api:stop(Api),
        jwks_verify_cache:stop(?CACHE),
        jwks_verify_demo_issuer:stop(Issuer)
    end.

%%--------------------------------------------------------------------
%% The scenarios
%%--------------------------------------------------------------------

play(Base, Iss, Key1, Key2, Issuer) ->
    Now = erlang:system_time(second),
    Claims = #{<<"iss">> => Iss, <<"aud">> => ?AUD, <<"sub">> => <<"alice">>,
               <<"name">> => <<"Alice">>, <<"scope">> => <<"read:messages">>,
               <<"iat">> => Now, <<"exp">> => Now + 300},
    Valid = jwks_verify_signer:sign(Claims, Key1),
    %% The valid token's header and signature around another payload.
    [H, _, S] = binary:split(Valid, <<".">>, [global]),
    [_, Admin, _] = binary:split(jwks_verify_signer:sign(Claims#{<<"sub">> => <<"admin">>}, Key1),
                                 <<".">>, [global]),
    Tampered = <<H/binary, ".", Admin/binary, ".", S/binary>>,
    Expired = jwks_verify_signer:sign(Claims#{<<"iat">> => Now - 3600, <<"exp">> => Now - 60},
                                      Key1),
    WrongIss = jwks_verify_signer:sign(Claims#{<<"iss">> => <<"https://evil.example/">>}, Key1),
    Played = [
        request(<<"public route, no token">>, Base, "/public", none, 200),
        request(<<"no token">>, Base, "/api/protected", none, 401),
        request(<<"tampered token (sub: admin)">>, Base, "/api/protected", Tampered, 401),
        request(<<"expired token">>, Base, "/api/protected", Expired, 401),
        request(<<"wrong issuer">>, Base, "/api/protected", WrongIss, 401),
        request(<<"valid token">>, Base, "/api/protected", Valid, 200)
    ],
    %% Rotation: the issuer retires key 1 and publishes key 2. The first token
    %% with the new kid makes the cache refetch the JWKS, inline.
    ok = jwks_verify_demo_issuer:publish(Issuer, jwks_verify_signer:jwks([Key2])),
    Rotated = jwks_verify_signer:sign(Claims, Key2),
    Played ++ [
        request(<<"key rotation: token from the new key">>, Base, "/api/protected", Rotated, 200),
        request(<<"retired key after the rotation">>, Base, "/api/protected", Valid, 401)
    ].

request(Scenario, Base, Path, Token, Expected) ->
    {Micros, {Status, Headers, Body}} = timer:tc(fun() -> get(Base ++ Path, bearer(Token)) end),
    #{scenario => Scenario,
      request => iolist_to_binary(["GET ", Path, case Token of none -> ""; _ -> " + token" end]),
      expected => Expected, status => Status, details => details(Status, Body),
      micros => Micros, headers => Headers, body => Body}.

bearer(none) -> [];
bearer(Token) -> [{"authorization", "Bearer " ++ binary_to_list(Token)}].

get(Url, Headers) ->
    {ok, {{_, Status, _}, RespHeaders, Body}} =
        httpc:request(get, {Url, Headers}, [{timeout, 5000}], [{body_format, binary}]),
    {Status, RespHeaders, Body}.

details(200, _Body) ->
    <<"-">>;
details(_Status, Body) ->
    case re:run(Body, <<"\"details\":\"([^\"]*)\"">>, [{capture, all_but_first, binary}]) of
        {match, [Details]} -> Details;
        nomatch -> <<"-">>
    end.

%%--------------------------------------------------------------------
%% Output
%%--------------------------------------------------------------------

print_table(Results) ->
    Rows = [[integer_to_list(I), Scenario, integer_to_list(Status),
             [integer_to_list(Expected), " ",
              case Status of Expected -> "ok"; _ -> "UNEXPECTED" end],
             Details, format_micros(Micros)]
            || {I, #{scenario := Scenario, status := Status, expected := Expected,
                     details := Details, micros := Micros}}
                   <- lists:zip(lists:seq(1, length(Results)), Results)],
    table([["#", "scenario", "status", "expected", "details", "time"] | Rows]).

print_bodies(Results) ->
    case scenario(Results, <<"expired token">>) of
        #{status := 401, headers := Headers, body := Expired} ->
            info(""),
            info("GET /api/protected with the expired token answered 401:"),
            [info(["  ", Name, ": ", Value]) || {Name, Value} <- Headers,
                                               lists:member(Name, ["www-authenticate",
                                                                   "content-type"])],
            info(["  ", Expired]);
        _ ->
            ok
    end,
    case scenario(Results, <<"valid token">>) of
        #{status := 200, body := Valid} ->
            info(""),
            info("GET /api/protected with the valid token answered 200:"),
            info(["  ", Valid]);
        _ ->
            ok
    end.

scenario(Results, Name) ->
    case [R || #{scenario := S} = R <- Results, S =:= Name] of
        [R | _] -> R;
        [] -> undefined
    end.

%% Round trips of a valid request over loopback HTTP, and the verification
%% the guard runs (jwks_verify:verify/3 on the cache) without HTTP.
print_latency(Base, Iss, Key, Samples) ->
    Now = erlang:system_time(second),
    Token = jwks_verify_signer:sign(#{<<"iss">> => Iss, <<"aud">> => ?AUD,
                                      <<"sub">> => <<"alice">>, <<"exp">> => Now + 300}, Key),
    Headers = bearer(Token),
    Http = [element(1, timer:tc(fun() -> get(Base ++ "/api/protected", Headers) end))
            || _ <- lists:seq(1, Samples)],
    Opts = jwks_verify:options(#{iss => Iss, aud => ?AUD}),
    Verify = [element(1, timer:tc(fun() -> {ok, _} = jwks_verify:verify(Token, ?CACHE, Opts) end))
              || _ <- lists:seq(1, Samples)],
    info(""),
    info(io_lib:format("Latency of a valid request, ~b samples (median / 99th percentile):",
                       [Samples])),
    info(["  HTTP round trip on loopback    ", stats(Http)]),
    info(["  jwks_verify:verify/3 alone     ", stats(Verify)]).

stats(Samples) ->
    Sorted = lists:sort(Samples),
    N = length(Sorted),
    Median = lists:nth(N div 2 + 1, Sorted),
    P99 = lists:nth(min(N, N * 99 div 100 + 1), Sorted),
    [format_micros(Median), " / ", format_micros(P99)].

format_micros(Us) when Us < 1000 -> io_lib:format("~b µs", [Us]);
format_micros(Us) -> io_lib:format("~.1f ms", [Us / 1000]).

%% Columns padded to their widest cell, two spaces apart.
table(Rows) ->
    Cells = [[unicode:characters_to_binary(Cell) || Cell <- Row] || Row <- Rows],
    Widths = lists:foldl(fun(Row, Acc) -> lists:zipwith(fun max/2, [string:length(C) || C <- Row], Acc) end,
                         [0 || _ <- hd(Cells)], Cells),
    [info(string:trim(lists:join("  ", lists:zipwith(fun(C, W) -> string:pad(C, W) end, Row, Widths)),
                      trailing))
     || Row <- Cells],
    ok.

info(Chars) ->
    io:format("~ts~n", [unicode:characters_to_binary(Chars)]).

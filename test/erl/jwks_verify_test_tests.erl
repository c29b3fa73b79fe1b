%% Guards jwks_verify_test as an EUnit user calls it: a {setup, ...} fixture
%% starts an issuer (its cache linked to the fixture's process) and stops it,
%% tokens go through jwks_verify_guard configured with guard_opts/1 and with
%% the literal defaults, proplist options work, and stopping the issuer makes
%% the key set unavailable. Tokens are signed by public_key through
%% jwks_verify_signer.
%% Run from ExUnit by test/jwks_verify/test_test.exs, or alone:
%%   erl -pa _build/test/lib/jwks_verify/ebin -eval 'eunit:test(jwks_verify_test, [verbose])'
-module(jwks_verify_test_tests).

-include_lib("eunit/include/eunit.hrl").

-define(NAME, jwks_verify_test_tests_jwks).

issuer_test_() ->
    {setup,
     fun() ->
         {ok, Issuer} = jwks_verify_test:start_issuer(#{name => ?NAME}),
         Issuer
     end,
     fun jwks_verify_test:stop_issuer/1,
     fun(Issuer) ->
         [{"a default token passes a guard configured with the literal defaults",
           ?_test(defaults(Issuer))},
          {"guard_opts/1 configures the guard", ?_test(guard_opts(Issuer))},
          {"overrides make refused tokens", ?_test(refusals(Issuer))},
          {"the fixture's cache runs under the name", ?_test(running(Issuer))}]
     end}.

defaults(Issuer) ->
    Config = jwks_verify_guard:init([{cache, ?NAME},
                                     {iss, <<"https://issuer.test/">>},
                                     {aud, <<"api.test">>}]),
    ?assertEqual(<<"https://issuer.test/">>, jwks_verify_test:iss()),
    ?assertEqual(<<"api.test">>, jwks_verify_test:aud()),
    {ok, Claims} = jwks_verify_guard:check(Config, [jwks_verify_test:authorization(Issuer)],
                                           <<"/api">>),
    ?assertMatch(#{<<"sub">> := <<"user-1">>, <<"iss">> := <<"https://issuer.test/">>,
                   <<"aud">> := <<"api.test">>}, Claims),
    ?assertEqual(maps:get(<<"iat">>, Claims) + 3600, maps:get(<<"exp">>, Claims)).

guard_opts(Issuer) ->
    Config = jwks_verify_guard:init(jwks_verify_test:guard_opts(Issuer)),
    Header = jwks_verify_test:authorization(Issuer, #{sub => <<"alice">>, <<"scope">> => <<"read">>}),
    ?assertMatch({ok, #{<<"sub">> := <<"alice">>, <<"scope">> := <<"read">>}},
                 jwks_verify_guard:check(Config, [Header], <<"/api">>)),
    Token = jwks_verify_test:sign(Issuer, #{sub => <<"bob">>}),
    ?assertMatch({ok, #{<<"sub">> := <<"bob">>}},
                 jwks_verify:verify(Token, ?NAME, #{aud => jwks_verify_test:aud()})).

refusals(Issuer) ->
    Config = jwks_verify_guard:init(jwks_verify_test:guard_opts(Issuer)),
    Now = erlang:system_time(second),
    Check = fun(Claims, Opts) ->
                    jwks_verify_guard:check(Config, [jwks_verify_test:authorization(Issuer, Claims, Opts)],
                                            <<"/api">>)
            end,
    ?assertEqual({error, expired}, Check(#{exp => Now - 60}, #{})),
    ?assertEqual({error, expired}, Check(#{}, [{now, Now - 7200}])),
    ?assertEqual({error, invalid_audience}, Check(#{aud => <<"other-api">>}, #{})),
    ?assertEqual({error, {missing_claim, <<"exp">>}}, Check(#{exp => undefined}, #{})),
    ?assertEqual({error, unknown_kid}, Check(#{}, #{kid => <<"nope">>})),
    Stranger = jwks_verify_test:new_issuer(),
    ?assertEqual({error, unknown_kid},
                 jwks_verify_guard:check(Config, [jwks_verify_test:authorization(Stranger)],
                                         <<"/api">>)).

running(#{name := Name, kid := Kid}) ->
    ?assertEqual(fresh, jwks_verify_cache:status(Name)),
    ?assertMatch(#{kids := [Kid]}, jwks_verify_cache:info(Name)).

%% Proplists, another algorithm, and stop_issuer/1.
%% Generous timeouts: the suite also runs under ASan on a loaded machine,
%% where starting a cache can take longer than EUnit's default 5 s.
es256_stop_test_() ->
    {timeout, 60, fun es256_stop/0}.

es256_stop() ->
    {ok, Issuer} = jwks_verify_test:start_issuer([{alg, <<"ES256">>}, {kid, <<"k1">>},
                                                   {aud, <<"my-api">>}]),
    #{name := Name} = Issuer,
    ?assertMatch(#{alg := <<"ES256">>, kid := <<"k1">>, aud := <<"my-api">>}, Issuer),
    Token = jwks_verify_test:sign(Issuer),
    Opts = #{aud => <<"my-api">>, algs => [<<"ES256">>]},
    ?assertMatch({ok, #{<<"aud">> := <<"my-api">>}}, jwks_verify:verify(Token, Name, Opts)),
    ?assertEqual(ok, jwks_verify_test:stop_issuer(Issuer)),
    ?assertEqual(undefined, whereis(Name)),
    ?assertEqual({error, jwks_unavailable}, jwks_verify:verify(Token, Name, Opts)).

taken_name_test_() ->
    {timeout, 60, fun taken_name/0}.

taken_name() ->
    {ok, Issuer} = jwks_verify_test:start_issuer(#{alg => <<"EdDSA">>}),
    #{name := Name} = Issuer,
    ?assertMatch({error, {already_started, _}},
                 jwks_verify_test:start_issuer(#{name => Name, alg => <<"EdDSA">>})),
    ok = jwks_verify_test:stop_issuer(Issuer).

badarg_test() ->
    ?assertError({badarg, #{option := alg}}, jwks_verify_test:new_issuer(#{alg => <<"none">>})),
    ?assertError({badarg, #{option := bits}}, jwks_verify_test:new_issuer([{bits, 4096}])),
    ?assertError({badarg, #{argument := issuer}}, jwks_verify_test:sign(#{}, #{})),
    ?assertError({badarg, #{argument := claims}},
                 jwks_verify_test:sign(jwks_verify_test:new_issuer(#{alg => <<"EdDSA">>}),
                                       #{{a} => 1})).

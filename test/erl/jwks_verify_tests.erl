%% Guards the plain-Erlang API: calls jwks_verify exactly as an Erlang user
%% would (binaries, option maps, no Elixir), with keys and tokens from
%% jwks_verify_signer (OTP's public_key), so the C core is checked against an
%% independent signer.
%% Run from ExUnit by test/erlang_api_test.exs, or alone:
%%   erl -pa _build/test/lib/jwks_verify/ebin -eval 'eunit:test(jwks_verify_tests, [verbose])'
-module(jwks_verify_tests).

-include_lib("eunit/include/eunit.hrl").

-import(jwks_verify_signer, [sign/2, sign/3]).

-define(NOW, 1700000100).
-define(ISS, <<"https://issuer.example">>).
-define(AUD, <<"api://default">>).

%%--------------------------------------------------------------------
%% Fixture: one key set with an RSA, a P-256 and an Ed25519 key
%%--------------------------------------------------------------------

api_test_() ->
    {setup, fun setup/0, fun(_) -> ok end, fun(Ctx) ->
        [
            {"RS256 verifies to a claims map with binary keys", ?_test(rs256_ok(Ctx))},
            {"ES256 verifies", ?_test(es256_ok(Ctx))},
            {"EdDSA verifies", ?_test(eddsa_ok(Ctx))},
            {"a kid-less token is matched by key type", ?_test(no_kid(Ctx))},
            {"refusals come back as {error, Reason}", ?_test(refusals(Ctx))},
            {"claim refusals carry the claim name", ?_test(claim_details(Ctx))},
            {"options prepared once are reused", ?_test(prepared(Ctx))},
            {"verify_jws/3 returns header and payload", ?_test(jws(Ctx))},
            {"peek_unverified/1 reads what it does not verify", ?_test(peek(Ctx))},
            {"key_set_info/1 describes the set", ?_test(info(Ctx))},
            {"caller mistakes raise badarg", ?_test(badargs(Ctx))},
            {"a key set is shared between processes", ?_test(shared(Ctx))}
        ]
    end}.

key_set_test() ->
    ?assertMatch({ok, _}, jwks_verify:key_set(<<"{\"keys\":[]}">>)),
    ?assertMatch({ok, _}, jwks_verify:key_set([<<"{\"keys\"">>, ":[]}"])),
    ?assertEqual({error, bad_json}, jwks_verify:key_set(<<"{">>)),
    ?assertEqual({error, bad_jwks}, jwks_verify:key_set(<<"[]">>)).

reasons_test() ->
    Reasons = jwks_verify:reasons(),
    ?assert(lists:all(fun is_atom/1, Reasons)),
    [?assert(lists:member(R, Reasons)) || R <- [expired, bad_signature, alg_none, unknown_kid]].

setup() ->
    Rsa = jwks_verify_signer:generate_key(<<"RS256">>, #{kid => <<"rsa">>}),
    P256 = jwks_verify_signer:generate_key(<<"ES256">>, #{kid => <<"p256">>}),
    Ed = jwks_verify_signer:generate_key(<<"EdDSA">>, #{kid => <<"ed">>}),
    {ok, KeySet} = jwks_verify:key_set(jwks_verify_signer:jwks([Rsa, P256, Ed])),
    #{ks => KeySet, rsa => Rsa, p256 => P256, ed => Ed,
      other_rsa => jwks_verify_signer:generate_key(<<"RS256">>, #{kid => <<"rsa">>})}.

%%--------------------------------------------------------------------
%% Cases
%%--------------------------------------------------------------------

rs256_ok(#{ks := KS, rsa := Rsa}) ->
    Claims = claims(#{}),
    Token = sign(Claims, Rsa),
    ?assertEqual({ok, Claims}, jwks_verify:verify(Token, KS, #{now => ?NOW, aud => ?AUD})),
    ?assertEqual({ok, Claims},
                 jwks_verify:verify(Token, KS, #{now => ?NOW, iss => ?ISS, aud => [?AUD],
                                                 required => [<<"exp">>, <<"sub">>]})).

es256_ok(#{ks := KS, p256 := P256}) ->
    Claims = claims(#{<<"nested">> => #{<<"l">> => [1, true, null, <<"x">>]}}),
    Token = sign(Claims, P256),
    ?assertEqual({ok, Claims},
                 jwks_verify:verify(Token, KS, #{now => ?NOW, aud => ?AUD, algs => [<<"ES256">>]})).

eddsa_ok(#{ks := KS, ed := Ed}) ->
    Claims = claims(#{}),
    Token = sign(Claims, Ed),
    ?assertEqual({ok, Claims},
                 jwks_verify:verify(Token, KS, #{now => ?NOW, aud => ?AUD, algs => [<<"EdDSA">>]})).

no_kid(#{ks := KS, p256 := P256}) ->
    Claims = claims(#{}),
    Token = sign(Claims, P256, #{kid => undefined}),
    ?assertEqual({ok, Claims},
                 jwks_verify:verify(Token, KS, #{now => ?NOW, aud => ?AUD, algs => [<<"ES256">>]})).

refusals(#{ks := KS, rsa := Rsa, other_rsa := Other}) ->
    Opts = #{now => ?NOW, aud => ?AUD},
    Good = sign(claims(#{}), Rsa),
    [H, P, S] = binary:split(Good, <<".">>, [global]),
    [_, Root, _] = binary:split(sign(claims(#{<<"sub">> => <<"root">>}), Rsa), <<".">>, [global]),
    Jku = #{kid => undefined, header => #{<<"jku">> => <<"https://evil.example/">>}},
    Cases = [
        {bad_signature, sign(claims(#{}), Other)},
        {bad_signature, <<H/binary, ".", Root/binary, ".", S/binary>>},
        {unknown_kid, sign(claims(#{}), Rsa, #{kid => <<"nope">>})},
        {alg_none, <<(b64(<<"{\"alg\":\"none\"}">>))/binary, ".", P/binary, ".">>},
        {alg_none, <<(b64(<<"{\"alg\":\"NoNe\"}">>))/binary, ".", P/binary, ".">>},
        {embedded_key, sign(claims(#{}), Rsa, Jku)},
        {expired, sign(claims(#{<<"exp">> => ?NOW}), Rsa)},
        {not_yet_valid, sign(claims(#{<<"nbf">> => ?NOW + 60}), Rsa)},
        {malformed_token, <<H/binary, ".", P/binary>>},
        {token_too_large, binary:copy(<<"a">>, 1 bsl 20)}
    ],
    [?assertEqual({Want, {error, Want}}, {Want, jwks_verify:verify(T, KS, Opts)}) || {Want, T} <- Cases],
    ?assertEqual({error, alg_not_allowed},
                 jwks_verify:verify(Good, KS, #{now => ?NOW, aud => ?AUD, algs => [<<"ES256">>]})),
    ?assertEqual({error, invalid_issuer},
                 jwks_verify:verify(Good, KS, #{now => ?NOW, aud => ?AUD, iss => <<"https://other">>})),
    ?assertEqual({error, invalid_audience},
                 jwks_verify:verify(Good, KS, #{now => ?NOW, aud => [<<"a">>, <<"b">>]})),
    %% RFC 7519 §4.1.3: a token with aud, and no audience given; any is the opt-out.
    ?assertEqual({error, invalid_audience}, jwks_verify:verify(Good, KS, #{now => ?NOW})),
    ?assertMatch({ok, #{<<"aud">> := ?AUD}},
                 jwks_verify:verify(Good, KS, #{now => ?NOW, aud => any})).

claim_details(#{ks := KS, rsa := Rsa}) ->
    NoSub = sign(maps:remove(<<"sub">>, claims(#{})), Rsa),
    ?assertEqual({error, {missing_claim, <<"sub">>}},
                 jwks_verify:verify(NoSub, KS, #{now => ?NOW, aud => ?AUD, required => [<<"sub">>]})),
    FloatExp = sign(claims(#{<<"exp">> => 1.5}), Rsa),
    ?assertEqual({error, {invalid_claim, <<"exp">>}}, jwks_verify:verify(FloatExp, KS, #{now => ?NOW, aud => ?AUD})).

prepared(#{ks := KS, rsa := Rsa}) ->
    Opts = jwks_verify:options(#{now => ?NOW, aud => ?AUD, algs => [<<"RS256">>, <<"ES256">>], leeway => 30}),
    ?assertEqual(Opts, jwks_verify:options(Opts)),
    Token = sign(claims(#{<<"exp">> => ?NOW - 10}), Rsa),
    ?assertMatch({ok, #{<<"sub">> := <<"user-1">>}}, jwks_verify:verify(Token, KS, Opts)).

jws(#{ks := KS, ed := Ed}) ->
    Token = sign(<<"not json">>, Ed, #{header => #{<<"typ">> => undefined}}),
    ?assertEqual({ok, #{header => #{<<"alg">> => <<"EdDSA">>, <<"kid">> => <<"ed">>},
                        payload => <<"not json">>}},
                 jwks_verify:verify_jws(Token, KS, #{algs => [<<"EdDSA">>]})),
    ?assertEqual({error, bad_payload},
                 jwks_verify:verify(Token, KS, #{now => ?NOW, aud => ?AUD, algs => [<<"EdDSA">>]})).

peek(#{other_rsa := Other}) ->
    Forged = sign(claims(#{<<"sub">> => <<"root">>}), Other),
    ?assertEqual({ok, #{header => #{<<"alg">> => <<"RS256">>, <<"kid">> => <<"rsa">>,
                                    <<"typ">> => <<"JWT">>},
                        claims => claims(#{<<"sub">> => <<"root">>})}},
                 jwks_verify:peek_unverified(Forged)),
    [_, P, _] = binary:split(Forged, <<".">>, [global]),
    ?assertEqual({error, bad_header},
                 jwks_verify:peek_unverified(<<(b64(<<"{\"a\":1,\"a\":2}">>))/binary, ".",
                                               P/binary, ".">>)),
    ?assertEqual({error, token_too_large},
                 jwks_verify:peek_unverified(binary:copy(<<"a">>, 32769))),
    ?assertError({badarg, #{argument := token}}, jwks_verify:peek_unverified("a.b.c")).

info(#{ks := KS}) ->
    #{usable := 3, skipped := 0, keys := Keys} = jwks_verify:key_set_info(KS),
    ?assertEqual([<<"ed">>, <<"p256">>, <<"rsa">>], lists:sort([Kid || #{kid := Kid} <- Keys])),
    ?assert(lists:all(fun(#{status := St}) -> St =:= ok end, Keys)).

badargs(#{ks := KS, rsa := Rsa}) ->
    Token = sign(claims(#{}), Rsa),
    ?assertError({badarg, _}, jwks_verify:verify(Token, KS, #{bogus => 1})),
    ?assertError({badarg, _}, jwks_verify:verify(Token, KS, #{algs => [<<"none">>]})),
    ?assertError({badarg, _}, jwks_verify:verify(Token, KS, #{algs => [<<"HS256">>]})),
    ?assertError({badarg, _}, jwks_verify:verify(Token, KS, #{leeway => -1})),
    ?assertError({badarg, _}, jwks_verify:verify(Token, KS, [{now, ?NOW}])),
    ?assertError({badarg, _}, jwks_verify:verify(binary_to_list(Token), KS, #{})),
    ?assertError({badarg, _}, jwks_verify:key_set(42)),
    ?assertError({badarg, #{argument := key_set}}, jwks_verify:verify(Token, make_ref(), #{now => ?NOW, aud => ?AUD})),
    ?assertError({badarg, #{option := aud}}, jwks_verify:options(#{aud => []})),
    ?assertError({badarg, #{option := iss}}, jwks_verify:options(#{iss => ""})),
    ?assertError({badarg, #{did_you_mean := leeway}}, jwks_verify:options(#{leewy => 1})).

shared(#{ks := KS, rsa := Rsa}) ->
    Token = sign(claims(#{}), Rsa),
    Self = self(),
    Pids = [spawn_link(fun() ->
                Self ! {self(), [jwks_verify:verify(Token, KS, #{now => ?NOW, aud => ?AUD}) || _ <- lists:seq(1, 50)]}
            end) || _ <- lists:seq(1, 8)],
    Results = lists:append([receive {Pid, R} -> R after 30000 -> error(timeout) end || Pid <- Pids]),
    ?assertEqual(400, length(Results)),
    ?assert(lists:all(fun(R) -> R =:= {ok, claims(#{})} end, Results)).

%%--------------------------------------------------------------------
%% Claims
%%--------------------------------------------------------------------

claims(Extra) ->
    maps:merge(#{<<"iss">> => ?ISS, <<"sub">> => <<"user-1">>, <<"aud">> => ?AUD,
                 <<"iat">> => ?NOW - 100, <<"exp">> => ?NOW + 3600}, Extra).

b64(Bin) ->
    Std = base64:encode(Bin),
    << <<(url(C))>> || <<C>> <= Std, C =/= $= >>.

url($+) -> $-;
url($/) -> $_;
url(C) -> C.

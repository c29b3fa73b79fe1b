%% @doc Test tokens for your own tests: a throwaway issuer whose JWKS a
%% {@link jwks_verify_cache} serves, and tokens it signs.
%%
%% An issuer is a fresh key pair (`RS256' by default; any algorithm of
%% {@link jwks_verify_signer}, such as `ES256' or `EdDSA'), a cache name, and
%% the `iss', `aud' and `sub' its tokens carry. {@link start_issuer/1} starts
%% a `jwks_verify_cache' under that name with the issuer's public JWKS as a
%% static source (no HTTP), so the code under test, guarded by
%% `jwks_verify_guard', `jwks_verify_httpd' or `JwksVerify.Plug' with
%% `{cache, Name}', verifies the tokens {@link sign/2} makes. Signing uses
%% OTP's `public_key' (through {@link jwks_verify_signer}), never
%% jwks_verify's own code, so a test cannot pass because signer and verifier
%% share a bug. Private keys sit in plain terms: never issue real tokens with
%% this module.
%%
%% ```
%% api_test_() ->
%%     {setup,
%%      fun() -> {ok, Issuer} = jwks_verify_test:start_issuer(#{name => my_jwks}), Issuer end,
%%      fun jwks_verify_test:stop_issuer/1,
%%      fun(Issuer) ->
%%          Config = jwks_verify_guard:init(jwks_verify_test:guard_opts(Issuer)),
%%          Header = jwks_verify_test:authorization(Issuer, #{<<"sub">> => <<"alice">>}),
%%          ?_assertMatch({ok, #{<<"sub">> := <<"alice">>}},
%%                        jwks_verify_guard:check(Config, [Header], <<"/api/me">>))
%%      end}.
%% '''
%%
%% == Defaults ==
%% A token carries `iss' `<<"https://issuer.test/">>' ({@link iss/0}), `aud'
%% `<<"api.test">>' ({@link aud/0}), `sub' `<<"user-1">>' ({@link sub/0}),
%% `iat' now and `exp' an hour from now, under the header
%% `{"alg":Alg,"kid":Kid,"typ":"JWT"}'. The guard must be configured to
%% accept them: `{iss, <<"https://issuer.test/">>}, {aud, <<"api.test">>}'
%% (a token carrying `aud' is refused by a guard without `aud'), and `algs'
%% naming the issuer's algorithm unless it is `RS256'; or give the issuer
%% your application's values with the `iss' and `aud' options.
%% {@link guard_opts/1} gives all of these.
%%
%% == Issuer options ==
%% {@link new_issuer/1} and {@link start_issuer/1} take a map or a proplist:
%% <ul>
%% <li>`name' - the cache's registered name, the one your guard is
%%     configured with; a fresh `jwks_verify_test_N' atom by default. A name
%%     is global: tests that start issuers under the same name cannot run at
%%     the same time.</li>
%% <li>`alg' - `<<"RS256">>' by default; `RS384', `RS512', `PS256',
%%     `PS384', `PS512', `ES256', `ES384', `ES512' or `EdDSA'.</li>
%% <li>`kid' - the key's `kid' (a binary, or `undefined' for none); its
%%     RFC 7638 thumbprint by default.</li>
%% <li>`key' - a PEM private key (RSA, EC or Ed25519, a binary) or a
%%     {@link jwks_verify_signer:key()} to use instead of a fresh one (the
%%     same key across runs, or one your fixtures already hold); `alg'
%%     defaults to the key's.</li>
%% <li>`iss', `aud', `sub' - the claims' defaults, as above; `aud' may be a
%%     list.</li>
%% </ul>
%%
%% == Claims ==
%% {@link sign/3} merges the claims given (binary or atom keys) over the
%% defaults; a claim whose value is `undefined' is left out. An expired token
%% is an `exp' in the past, a token for another API another `aud':
%% ```
%% jwks_verify_test:sign(Issuer, #{exp => erlang:system_time(second) - 60}),
%% jwks_verify_test:sign(Issuer, #{aud => <<"other-api">>, exp => undefined}).
%% '''
%% A token the application must refuse as signed by someone else comes from
%% another issuer: `jwks_verify_test:sign(jwks_verify_test:new_issuer(), #{})'.
-module(jwks_verify_test).

%% Defaults
-export([iss/0, aud/0, sub/0]).
%% Issuers
-export([new_issuer/0, new_issuer/1, start_issuer/0, start_issuer/1, stop_issuer/1,
         child_spec/1]).
%% Tokens
-export([claims/1, claims/2, claims/3, sign/1, sign/2, sign/3,
         authorization/1, authorization/2, authorization/3]).
%% What the application under test is given
-export([jwks/1, guard_opts/1]).

-export_type([issuer/0, issuer_opts/0, claims/0, sign_opts/0]).

-type issuer() :: #{name := atom(), alg := binary(), kid := binary() | undefined,
                    iss := binary(), aud := binary() | [binary()], sub := binary(),
                    key := jwks_verify_signer:key()}.
%% An issuer: read its fields (`name', `iss', `aud', ...) freely; `key' is
%% the private key, for {@link jwks_verify_signer} when a test needs a token
%% this module does not make.

-type issuer_opts() :: #{name => atom(), alg => binary(), kid => binary() | undefined,
                         key => binary() | jwks_verify_signer:key(), iss => binary(),
                         aud => binary() | [binary()], sub => binary()}
                     | [{atom(), term()}].
%% See "Issuer options" in the module doc.

-type claims() :: #{binary() | atom() => term()}.
%% Claims as {@link jwks_verify_signer} writes them as JSON: binaries,
%% integers, floats, `true', `false', `null', lists and maps.

-type sign_opts() :: #{kid => binary() | undefined, header => map(), now => integer()}
                   | [{atom(), term()}].
%% `kid': the header's `kid' instead of the issuer's (`undefined' leaves it
%% out); `header': members merged over the header (`undefined' removes one);
%% `now': the time `iat' and `exp' count from, in seconds since the epoch.

-define(ISS, <<"https://issuer.test/">>).
-define(AUD, <<"api.test">>).
-define(SUB, <<"user-1">>).
-define(LIFETIME, 3600).
-define(ALGS, [<<"RS256">>, <<"RS384">>, <<"RS512">>, <<"PS256">>, <<"PS384">>, <<"PS512">>,
               <<"ES256">>, <<"ES384">>, <<"ES512">>, <<"EdDSA">>]).
-define(ISSUER_OPTS, [name, alg, kid, key, iss, aud, sub]).
-define(SIGN_OPTS, [kid, header, now]).

%%--------------------------------------------------------------------
%% Defaults
%%--------------------------------------------------------------------

%% @doc The default `iss' of tokens: `<<"https://issuer.test/">>'.
-spec iss() -> binary().
iss() -> ?ISS.

%% @doc The default `aud' of tokens: `<<"api.test">>'.
-spec aud() -> binary().
aud() -> ?AUD.

%% @doc The default `sub' of tokens: `<<"user-1">>'.
-spec sub() -> binary().
sub() -> ?SUB.

%%--------------------------------------------------------------------
%% Issuers
%%--------------------------------------------------------------------

%% @equiv new_issuer(#{})
-spec new_issuer() -> issuer().
new_issuer() ->
    new_issuer(#{}).

%% @doc An issuer with no cache: a key, a name and claim defaults (see the
%% module doc). For {@link child_spec/1}, or for tokens signed by a key the
%% application does not know. Raises `{badarg, Description}' on a bad option.
-spec new_issuer(issuer_opts()) -> issuer().
new_issuer(Opts) ->
    O = options(Opts, ?ISSUER_OPTS),
    Name = name(maps:get(name, O, generated)),
    {Key, Alg, Kid} = key(O),
    #{name => Name, alg => Alg, kid => Kid,
      iss => binary_opt(iss, maps:get(iss, O, ?ISS)),
      aud => aud(maps:get(aud, O, ?AUD)),
      sub => binary_opt(sub, maps:get(sub, O, ?SUB)),
      key => Key}.

%% @equiv start_issuer(#{})
-spec start_issuer() -> {ok, issuer()} | {error, term()}.
start_issuer() ->
    start_issuer(#{}).

%% @doc Makes an issuer ({@link new_issuer/1}) and starts, linked to the
%% caller, a {@link jwks_verify_cache} under its name serving its public
%% JWKS. `{error, {already_started, Pid}}' when the name is taken (by your
%% application's own cache, say: don't start that one in tests).
-spec start_issuer(issuer_opts()) -> {ok, issuer()} | {error, term()}.
start_issuer(Opts) ->
    #{name := Name} = Issuer = new_issuer(Opts),
    case jwks_verify_cache:start_link(Name, #{jwks => jwks(Issuer)}) of
        {ok, _Pid} -> {ok, Issuer};
        {error, _} = Error -> Error
    end.

%% @doc Stops the issuer's cache: tokens it signed answer
%% `{error, jwks_unavailable}' from then on.
-spec stop_issuer(issuer()) -> ok.
stop_issuer(#{name := Name}) ->
    jwks_verify_cache:stop(Name).

%% @doc A child specification starting the issuer's cache: for a
%% supervisor, or ExUnit's `start_supervised/1'. `temporary': a cache the
%% test stops stays stopped.
-spec child_spec(issuer()) -> supervisor:child_spec().
child_spec(#{name := Name} = Issuer) ->
    #{id => {?MODULE, Name},
      start => {jwks_verify_cache, start_link, [Name, #{jwks => jwks(Issuer)}]},
      restart => temporary,
      type => worker,
      shutdown => 5000}.

%%--------------------------------------------------------------------
%% Tokens
%%--------------------------------------------------------------------

%% @equiv claims(Issuer, #{}, #{})
-spec claims(issuer()) -> #{binary() => term()}.
claims(Issuer) ->
    claims(Issuer, #{}, #{}).

%% @equiv claims(Issuer, Overrides, #{})
-spec claims(issuer(), claims()) -> #{binary() => term()}.
claims(Issuer, Overrides) ->
    claims(Issuer, Overrides, #{}).

%% @doc The claims {@link sign/3} signs: the issuer's `iss', `aud', `sub',
%% `iat' now and `exp' an hour later, with `Overrides' merged over them
%% (keys as binaries; a claim whose value is `undefined' left out). Of
%% `Opts', only `now' counts.
-spec claims(issuer(), claims(), sign_opts()) -> #{binary() => term()}.
claims(#{iss := Iss, aud := Aud, sub := Sub}, Overrides, Opts) when is_map(Overrides) ->
    Now = now(options(Opts, ?SIGN_OPTS)),
    Defaults = #{<<"iss">> => Iss, <<"aud">> => Aud, <<"sub">> => Sub,
                 <<"iat">> => Now, <<"exp">> => Now + ?LIFETIME},
    Merged = maps:fold(fun(K, V, Acc) -> Acc#{member_name(claims, K) => V} end, Defaults, Overrides),
    maps:filter(fun(_, V) -> V =/= undefined end, Merged);
claims(#{iss := _}, Overrides, _Opts) ->
    jwks_verify_badarg:bad_argument(claims, Overrides, "a map");
claims(Issuer, _Overrides, _Opts) ->
    not_an_issuer(Issuer).

%% @equiv sign(Issuer, #{}, #{})
-spec sign(issuer()) -> binary().
sign(Issuer) ->
    sign(Issuer, #{}, #{}).

%% @equiv sign(Issuer, Claims, #{})
-spec sign(issuer(), claims()) -> binary().
sign(Issuer, Claims) ->
    sign(Issuer, Claims, #{}).

%% @doc A compact JWT signed by the issuer's key: {@link claims/3} of
%% `Claims' under the header `{"alg":Alg,"kid":Kid,"typ":"JWT"}'. `Opts'
%% (see {@type sign_opts()}): `kid', `header', `now'.
-spec sign(issuer(), claims(), sign_opts()) -> binary().
sign(#{key := Key, alg := Alg, kid := Kid} = Issuer, Claims, Opts) ->
    O = options(Opts, ?SIGN_OPTS),
    Payload = claims(Issuer, Claims, O),
    Header = header(maps:get(header, O, #{})),
    jwks_verify_signer:sign(Payload, Key, #{alg => Alg, kid => kid(maps:get(kid, O, Kid)),
                                            header => Header});
sign(Issuer, _Claims, _Opts) ->
    not_an_issuer(Issuer).

%% @equiv authorization(Issuer, #{}, #{})
-spec authorization(issuer()) -> {binary(), binary()}.
authorization(Issuer) ->
    authorization(Issuer, #{}, #{}).

%% @equiv authorization(Issuer, Claims, #{})
-spec authorization(issuer(), claims()) -> {binary(), binary()}.
authorization(Issuer, Claims) ->
    authorization(Issuer, Claims, #{}).

%% @doc The request header `{<<"authorization">>, <<"Bearer ", Token/binary>>}'
%% for {@link sign/3} of the same arguments, as Plug, Cowboy and
%% `jwks_verify_guard' take headers.
-spec authorization(issuer(), claims(), sign_opts()) -> {binary(), binary()}.
authorization(Issuer, Claims, Opts) ->
    {<<"authorization">>, <<"Bearer ", (sign(Issuer, Claims, Opts))/binary>>}.

%%--------------------------------------------------------------------
%% What the application under test is given
%%--------------------------------------------------------------------

%% @doc The issuer's public JWKS, `{"keys":[...]}' as JSON: one key with its
%% `kid' (unless `undefined'), `alg' and `use'.
-spec jwks(issuer()) -> binary().
jwks(#{key := Key, alg := Alg, kid := Kid}) ->
    Jwk = (jwks_verify_signer:public_jwk(Key))#{<<"alg">> => Alg},
    jwks_verify_signer:jwks([case Kid of
                                 undefined -> maps:remove(<<"kid">>, Jwk);
                                 _ -> Jwk#{<<"kid">> => Kid}
                             end]);
jwks(Issuer) ->
    not_an_issuer(Issuer).

%% @doc Guard options that accept the issuer's tokens: `cache' (its name),
%% `iss', `aud' and `algs'. For {@link jwks_verify_guard:init/1}, the
%% `jwks_verify' property of {@link jwks_verify_httpd}, or
%% `JwksVerify.Plug.init/1'; add your own after them.
-spec guard_opts(issuer()) -> [{cache | iss | aud | algs, term()}].
guard_opts(#{name := Name, iss := Iss, aud := Aud, alg := Alg}) ->
    [{cache, Name}, {iss, Iss}, {aud, Aud}, {algs, [Alg]}];
guard_opts(Issuer) ->
    not_an_issuer(Issuer).

%%--------------------------------------------------------------------
%% Options
%%--------------------------------------------------------------------

options(Opts, Known) when is_map(Opts) ->
    options(maps:to_list(Opts), Known);
options(Opts, Known) when is_list(Opts) ->
    lists:foldl(
      fun({K, V}, Acc) when is_atom(K) ->
              case lists:member(K, Known) of
                  true when is_map_key(K, Acc) ->
                      jwks_verify_badarg:bad_value(K, V, "the option once (it is given twice)");
                  true -> Acc#{K => V};
                  false -> jwks_verify_badarg:unknown_option(K, Known)
              end;
         (Other, _Acc) ->
              jwks_verify_badarg:bad_argument(options, Other,
                                              "{Key, Value} pairs with an atom key")
      end, #{}, Opts);
options(Other, _Known) ->
    jwks_verify_badarg:bad_argument(options, Other, "a map or a list of {Key, Value} pairs").

name(generated) ->
    list_to_atom("jwks_verify_test_" ++ integer_to_list(erlang:unique_integer([positive])));
name(Name) when is_atom(Name), Name =/= undefined, Name =/= nil, Name =/= true,
                Name =/= false ->
    Name;
name(Bad) ->
    jwks_verify_badarg:bad_value(name, Bad, "an atom (the name of the issuer's cache)").

%% The key, made or given, with the issuer's alg and kid.
key(O) ->
    Key = case O of
              #{key := Pem} when is_binary(Pem) -> from_pem(Pem);
              #{key := Given} -> Given;
              #{} -> jwks_verify_signer:generate_key(alg(maps:get(alg, O, <<"RS256">>)))
          end,
    Jwk = try jwks_verify_signer:public_jwk(Key)
          catch error:_ -> bad_key(maps:get(key, O))
          end,
    Alg = alg(maps:get(alg, O, maps:get(<<"alg">>, Jwk))),
    fits(Alg, Jwk),
    {Key, Alg, kid(maps:get(kid, O, maps:get(<<"kid">>, Jwk, undefined)))}.

from_pem(Pem) ->
    try
        [Entry] = public_key:pem_decode(Pem),
        jwks_verify_signer:from_private_key(public_key:pem_entry_decode(Entry))
    catch
        error:_ -> bad_key(Pem)
    end.

bad_key(Given) ->
    jwks_verify_badarg:bad_value(key, Given, "a PEM private key (RSA, EC or Ed25519) "
                                             "or a jwks_verify_signer key").

%% RFC 7518 §3.1: each alg names the key type (and curve) it signs with.
fits(Alg, Jwk) ->
    Fits = case {Alg, Jwk} of
               {<<"RS", _/binary>>, #{<<"kty">> := <<"RSA">>}} -> true;
               {<<"PS", _/binary>>, #{<<"kty">> := <<"RSA">>}} -> true;
               {<<"ES256">>, #{<<"crv">> := <<"P-256">>}} -> true;
               {<<"ES384">>, #{<<"crv">> := <<"P-384">>}} -> true;
               {<<"ES512">>, #{<<"crv">> := <<"P-521">>}} -> true;
               {<<"EdDSA">>, #{<<"crv">> := <<"Ed25519">>}} -> true;
               _ -> false
           end,
    Fits orelse jwks_verify_badarg:bad_value(
                  alg, Alg, ["an algorithm the key signs with (the key is ",
                             maps:get(<<"kty">>, Jwk), " ", maps:get(<<"crv">>, Jwk, <<>>), ")"]).

alg(Alg) ->
    case lists:member(Alg, ?ALGS) of
        true -> Alg;
        false -> jwks_verify_badarg:bad_value(alg, Alg, ["one of ", lists:join(", ", ?ALGS)])
    end.

kid(Kid) when is_binary(Kid); Kid =:= undefined ->
    Kid;
kid(Bad) ->
    jwks_verify_badarg:bad_value(kid, Bad, "a binary, or undefined for no kid").

aud(Aud) when is_binary(Aud) ->
    Aud;
aud([_ | _] = Auds) ->
    case lists:all(fun is_binary/1, Auds) of
        true -> Auds;
        false -> jwks_verify_badarg:bad_value(aud, Auds, "a binary or a non-empty list of binaries")
    end;
aud(Bad) ->
    jwks_verify_badarg:bad_value(aud, Bad, "a binary or a non-empty list of binaries").

binary_opt(_Opt, Value) when is_binary(Value) ->
    Value;
binary_opt(Opt, Bad) ->
    jwks_verify_badarg:bad_value(Opt, Bad, "a binary").

header(Header) when is_map(Header) ->
    maps:fold(fun(K, V, Acc) -> Acc#{member_name(header, K) => V} end, #{}, Header);
header(Bad) ->
    jwks_verify_badarg:bad_value(header, Bad, "a map of header members").

now(#{now := Now}) when is_integer(Now) ->
    Now;
now(#{now := Bad}) ->
    jwks_verify_badarg:bad_value(now, Bad, "an integer (seconds since the epoch)");
now(#{}) ->
    erlang:system_time(second).

member_name(_What, Name) when is_binary(Name) ->
    Name;
member_name(_What, Name) when is_atom(Name) ->
    atom_to_binary(Name);
member_name(What, Bad) ->
    jwks_verify_badarg:bad_argument(What, Bad, "member names as binaries or atoms").

-spec not_an_issuer(term()) -> no_return().
not_an_issuer(Given) ->
    jwks_verify_badarg:bad_argument(issuer, Given, "an issuer from jwks_verify_test:new_issuer/1 "
                                                   "or start_issuer/1").

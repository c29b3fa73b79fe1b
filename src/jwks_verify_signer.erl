%% @doc For tests: keys and signed tokens, never for production.
%%
%% Makes what a test of code that verifies JWTs needs: fresh keys, their
%% JWKS, and compact JWS tokens signed by them, correct or crafted. It signs
%% with OTP's `public_key' and `crypto' only, never with jwks_verify's NIF, so
%% a test cannot pass because signer and verifier share a bug. Private keys
%% sit in plain terms and nothing is tuned or hardened: never use it to issue
%% real tokens.
%%
%% ```
%% Key = jwks_verify_signer:generate_key(<<"ES256">>),
%% {ok, KeySet} = jwks_verify:key_set(jwks_verify_signer:jwks([Key])),
%% Token = jwks_verify_signer:sign(#{<<"sub">> => <<"alice">>,
%%                                   <<"exp">> => erlang:system_time(second) + 60}, Key),
%% {ok, #{<<"sub">> := <<"alice">>}} =
%%     jwks_verify:verify(Token, KeySet, #{algs => [<<"ES256">>]}).
%% '''
%%
%% Algorithms (RFC 7518 §3): `RS256', `RS384', `RS512' and `PS256', `PS384',
%% `PS512' with RSA keys (2048 bits unless `bits' says otherwise); `ES256',
%% `ES384', `ES512' on P-256, P-384, P-521; `EdDSA' with Ed25519.
%%
%% A key is made for one algorithm and has a `kid' (by default its RFC 7638
%% thumbprint); both go into its JWK and into the header of what it signs.
%%
%% Claims and headers given as maps are written as compact JSON with the
%% members sorted: keys are binaries or atoms; values are maps, lists,
%% binaries (written as they are, apart from JSON's escapes: no UTF-8
%% check), integers of any size, floats, and `true', `false', `null'.
%%
%% Crafted tokens: {@link sign_compact/4} signs header and payload bytes as
%% given, and these signature options (of {@link sign/3} too) make the
%% signature itself wrong in one chosen way:
%% <ul>
%% <li>`alg' - sign with another algorithm the key's type allows (`RS384'
%%     with a key made for `RS256'); {@link sign/3} names it in the header;</li>
%% <li>`digest' - `sha256', `sha384' or `sha512' instead of the algorithm's hash;</li>
%% <li>`pss_salt_length' - the PS salt in bytes (RFC 7518 §3.5 wants the
%%     hash length, the default);</li>
%% <li>`ecdsa_encoding' - `der' for the ASN.1 signature OpenSSL makes
%%     instead of JWS's fixed-width `r || s' (`raw', the default).</li>
%% </ul>
-module(jwks_verify_signer).

%% Keys
-export([generate_key/1, generate_key/2, from_private_key/1, from_private_key/2]).
%% Public halves
-export([public_jwk/1, jwks/1, public_key/1]).
%% Tokens
-export([sign/2, sign/3, sign_compact/3, sign_compact/4, signature/2, signature/3]).

-export_type([key/0, alg/0, key_opts/0, sign_opts/0]).

-include_lib("public_key/include/public_key.hrl").

-opaque key() :: #{alg := alg(), kid := binary() | undefined,
                   private := #'RSAPrivateKey'{} | #'ECPrivateKey'{}}.
-type alg() :: binary().
-type key_opts() :: #{bits => pos_integer(), e => pos_integer(),
                      kid => binary() | undefined, alg => alg()}.
-type sign_opts() :: #{header => map(), kid => binary() | undefined, alg => alg(),
                       digest => sha256 | sha384 | sha512,
                       pss_salt_length => non_neg_integer(),
                       ecdsa_encoding => raw | der}.

%%--------------------------------------------------------------------
%% Keys
%%--------------------------------------------------------------------

%% @equiv generate_key(Alg, #{})
-spec generate_key(alg()) -> key().
generate_key(Alg) ->
    generate_key(Alg, #{}).

%% @doc A fresh key for `Alg'. Options: `bits' (RSA modulus size, 2048),
%% `e' (RSA public exponent, 65537), `kid' (a binary, or `undefined' for a key
%% without one; the RFC 7638 thumbprint by default).
-spec generate_key(alg(), key_opts()) -> key().
generate_key(Alg, Opts) when is_map(Opts) ->
    Private =
        case family(Alg) of
            rsa -> public_key:generate_key({rsa, maps:get(bits, Opts, 2048),
                                            maps:get(e, Opts, 65537)});
            ec -> public_key:generate_key({namedCurve, curve_oid(Alg)});
            eddsa -> public_key:generate_key({namedCurve, ?'id-Ed25519'})
        end,
    key(Alg, Private, Opts);
generate_key(_Alg, Opts) ->
    erlang:error({badarg, {"options must be a map, got", Opts}}).

%% @equiv from_private_key(PrivateKey, #{})
-spec from_private_key(#'RSAPrivateKey'{} | #'ECPrivateKey'{}) -> key().
from_private_key(Private) ->
    from_private_key(Private, #{}).

%% @doc A key from a `public_key' private key record (what
%% `public_key:pem_entry_decode/1' gives for RSA, EC and Ed25519 keys).
%% Options: `alg' (`RS256', the curve's `ES' algorithm or `EdDSA' by default)
%% and `kid' as for {@link generate_key/2}.
-spec from_private_key(#'RSAPrivateKey'{} | #'ECPrivateKey'{}, key_opts()) -> key().
from_private_key(#'RSAPrivateKey'{} = Private, Opts) ->
    key(maps:get(alg, Opts, <<"RS256">>), Private, Opts);
from_private_key(#'ECPrivateKey'{parameters = {namedCurve, ?'id-Ed25519'},
                                 privateKey = Secret, publicKey = Public} = Private, Opts) ->
    %% A PKCS #8 Ed25519 key need not carry its public half.
    Complete =
        case Public of
            <<_:32/binary>> -> Private;
            _ ->
                {Derived, _} = crypto:generate_key(eddsa, ed25519, Secret),
                Private#'ECPrivateKey'{publicKey = Derived}
        end,
    key(maps:get(alg, Opts, <<"EdDSA">>), Complete, Opts);
from_private_key(#'ECPrivateKey'{parameters = {namedCurve, Oid}} = Private, Opts) ->
    Default = hd([A || A <- [<<"ES256">>, <<"ES384">>, <<"ES512">>], curve_oid(A) =:= Oid] ++
                 [<<"ES256">>]),
    key(maps:get(alg, Opts, Default), Private, Opts);
from_private_key(Other, _Opts) ->
    erlang:error({badarg, {"expected an RSAPrivateKey or ECPrivateKey record, got", Other}}).

key(Alg, Private, Opts) ->
    fits(Alg, Private),
    Key = #{alg => Alg, kid => undefined, private => Private},
    case maps:get(kid, Opts, thumbprint) of
        thumbprint -> Key#{kid := thumbprint(Key)};
        Kid when is_binary(Kid); Kid =:= undefined -> Key#{kid := Kid};
        Kid -> erlang:error({badarg, {"kid must be a binary or undefined, got", Kid}})
    end.

%% RFC 7638 §3: SHA-256 over the required members, sorted, without spaces.
thumbprint(Key) ->
    Required = maps:with([<<"kty">>, <<"crv">>, <<"n">>, <<"e">>, <<"x">>, <<"y">>],
                         material(Key)),
    b64(crypto:hash(sha256, json(Required))).

%%--------------------------------------------------------------------
%% Public halves
%%--------------------------------------------------------------------

%% @doc The public JWK of a key: `kty' and its key members, `kid' (unless
%% `undefined'), `alg' and `use' (`sig').
-spec public_jwk(key()) -> #{binary() => binary()}.
public_jwk(#{alg := Alg, kid := Kid} = Key) ->
    Jwk = (material(Key))#{<<"alg">> => Alg, <<"use">> => <<"sig">>},
    case Kid of
        undefined -> Jwk;
        _ -> Jwk#{<<"kid">> => Kid}
    end.

%% @doc A JWKS document, `{"keys":[...]}', as JSON: the public JWK of each
%% key; a map that is not a key is taken as a JWK and written as it is.
-spec jwks([key() | map()]) -> binary().
jwks(Keys) when is_list(Keys) ->
    Jwks = [case Key of
                #{private := _} -> public_jwk(Key);
                Jwk when is_map(Jwk) -> Jwk
            end || Key <- Keys],
    iolist_to_binary(json(#{<<"keys">> => Jwks})).

%% @doc The public key as `public_key:verify/4,5' takes it.
-spec public_key(key()) -> public_key:public_key().
public_key(#{private := #'RSAPrivateKey'{modulus = N, publicExponent = E}}) ->
    #'RSAPublicKey'{modulus = N, publicExponent = E};
public_key(#{private := #'ECPrivateKey'{parameters = Params, publicKey = Point}}) ->
    {#'ECPoint'{point = Point}, Params}.

material(#{private := #'RSAPrivateKey'{modulus = N, publicExponent = E}}) ->
    #{<<"kty">> => <<"RSA">>, <<"n">> => b64(binary:encode_unsigned(N)),
      <<"e">> => b64(binary:encode_unsigned(E))};
material(#{private := #'ECPrivateKey'{parameters = {namedCurve, ?'id-Ed25519'},
                                      publicKey = Public}}) ->
    #{<<"kty">> => <<"OKP">>, <<"crv">> => <<"Ed25519">>, <<"x">> => b64(Public)};
material(#{private := #'ECPrivateKey'{parameters = {namedCurve, Oid},
                                      publicKey = <<4, XY/binary>>}}) ->
    Size = byte_size(XY) div 2,
    <<X:Size/binary, Y:Size/binary>> = XY,
    #{<<"kty">> => <<"EC">>, <<"crv">> => curve_name(Oid), <<"x">> => b64(X),
      <<"y">> => b64(Y)}.

%%--------------------------------------------------------------------
%% Tokens
%%--------------------------------------------------------------------

%% @equiv sign(Claims, Key, #{})
-spec sign(map() | binary(), key()) -> binary().
sign(Claims, Key) ->
    sign(Claims, Key, #{}).

%% @doc A compact JWT: `Claims' (a map, written as JSON, or a binary, the
%% payload as it is) under the header `{"alg":Alg,"kid":Kid,"typ":"JWT"}'.
%% Options: `kid' (a binary, or `undefined' to leave it out; the key's by
%% default), `header' (members merged over that header; a member whose value
%% is `undefined' is removed), and the signature options of the module doc.
-spec sign(map() | binary(), key(), sign_opts()) -> binary().
sign(Claims, #{alg := KeyAlg, kid := KeyKid} = Key, Opts) when is_map(Opts) ->
    Alg = maps:get(alg, Opts, KeyAlg),
    Base = #{<<"alg">> => Alg, <<"typ">> => <<"JWT">>, <<"kid">> => maps:get(kid, Opts, KeyKid)},
    Header = maps:filter(fun(_, V) -> V =/= undefined end,
                         maps:merge(Base, maps:get(header, Opts, #{}))),
    Payload =
        case Claims of
            _ when is_map(Claims) -> json(Claims);
            _ when is_binary(Claims) -> Claims;
            _ -> erlang:error({badarg, {"claims must be a map or a binary, got", Claims}})
        end,
    sign_compact(json(Header), Payload, Key, maps:without([header, kid], Opts));
sign(_Claims, _Key, Opts) ->
    erlang:error({badarg, {"options must be a map, got", Opts}}).

%% @equiv sign_compact(Header, Payload, Key, #{})
-spec sign_compact(iodata(), iodata(), key()) -> binary().
sign_compact(Header, Payload, Key) ->
    sign_compact(Header, Payload, Key, #{}).

%% @doc A compact JWS of header and payload bytes exactly as given (each is
%% base64url-encoded here, nothing else): for crafted and hostile tokens.
%% `Opts' are the signature options of the module doc.
-spec sign_compact(iodata(), iodata(), key(), sign_opts()) -> binary().
sign_compact(Header, Payload, Key, Opts) ->
    Input = <<(b64(Header))/binary, ".", (b64(Payload))/binary>>,
    <<Input/binary, ".", (b64(signature(Input, Key, Opts)))/binary>>.

%% @equiv signature(SigningInput, Key, #{})
-spec signature(iodata(), key()) -> binary().
signature(Input, Key) ->
    signature(Input, Key, #{}).

%% @doc The JWS signature of a signing input (`Header.Payload', already
%% encoded), as raw bytes: ECDSA as `r || s', each padded to the curve's size
%% (RFC 7518 §3.4). `Opts' are the signature options of the module doc.
-spec signature(iodata(), key(), sign_opts()) -> binary().
signature(Input, #{alg := KeyAlg, private := Private}, Opts) when is_map(Opts) ->
    Alg = maps:get(alg, Opts, KeyAlg),
    fits(Alg, Private),
    Digest = maps:get(digest, Opts, digest(Alg)),
    case family(Alg) of
        rsa ->
            case Alg of
                <<"RS", _/binary>> ->
                    public_key:sign(Input, Digest, Private);
                <<"PS", _/binary>> ->
                    %% RFC 7518 §3.5: MGF1 with the same hash, salt as long as the hash.
                    Salt = maps:get(pss_salt_length, Opts, hash_size(Digest)),
                    public_key:sign(Input, Digest, Private,
                                    [{rsa_padding, rsa_pkcs1_pss_padding},
                                     {rsa_pss_saltlen, Salt}, {rsa_mgf1_md, Digest}])
            end;
        ec ->
            Der = public_key:sign(Input, Digest, Private),
            case maps:get(ecdsa_encoding, Opts, raw) of
                der ->
                    Der;
                raw ->
                    #'ECDSA-Sig-Value'{r = R, s = S} =
                        public_key:der_decode('ECDSA-Sig-Value', Der),
                    #'ECPrivateKey'{parameters = {namedCurve, Oid}} = Private,
                    Bits = 8 * curve_size(Oid),
                    <<R:Bits, S:Bits>>
            end;
        eddsa ->
            public_key:sign(Input, none, Private)
    end;
signature(_Input, _Key, Opts) ->
    erlang:error({badarg, {"options must be a map, got", Opts}}).

%%--------------------------------------------------------------------
%% Algorithms
%%--------------------------------------------------------------------

family(<<"RS", B/binary>>) when B =:= <<"256">>; B =:= <<"384">>; B =:= <<"512">> -> rsa;
family(<<"PS", B/binary>>) when B =:= <<"256">>; B =:= <<"384">>; B =:= <<"512">> -> rsa;
family(<<"ES", B/binary>>) when B =:= <<"256">>; B =:= <<"384">>; B =:= <<"512">> -> ec;
family(<<"EdDSA">>) -> eddsa;
family(Alg) ->
    erlang:error({badarg, {"unsupported algorithm", Alg,
                           {supported, [<<"RS256">>, <<"RS384">>, <<"RS512">>, <<"PS256">>,
                                        <<"PS384">>, <<"PS512">>, <<"ES256">>, <<"ES384">>,
                                        <<"ES512">>, <<"EdDSA">>]}}}).

%% An ES algorithm may sign with an EC key of another curve (a crafted
%% token): the algorithm picks the hash, the key's curve the size of r and s.
fits(Alg, Private) ->
    case {family(Alg), Private} of
        {rsa, #'RSAPrivateKey'{}} -> ok;
        {eddsa, #'ECPrivateKey'{parameters = {namedCurve, ?'id-Ed25519'}}} -> ok;
        {ec, #'ECPrivateKey'{parameters = {namedCurve, ?'id-Ed25519'}}} -> mismatch(Alg);
        {ec, #'ECPrivateKey'{parameters = {namedCurve, Oid}}} -> curve_size(Oid), ok;
        _ -> mismatch(Alg)
    end.

mismatch(Alg) ->
    erlang:error({badarg, {"the key cannot sign with", Alg}}).

digest(<<_:2/binary, "256">>) -> sha256;
digest(<<_:2/binary, "384">>) -> sha384;
digest(<<_:2/binary, "512">>) -> sha512;
digest(<<"EdDSA">>) -> none.

hash_size(sha256) -> 32;
hash_size(sha384) -> 48;
hash_size(sha512) -> 64.

curve_oid(<<"ES256">>) -> ?secp256r1;
curve_oid(<<"ES384">>) -> ?secp384r1;
curve_oid(<<"ES512">>) -> ?secp521r1.

curve_name(?secp256r1) -> <<"P-256">>;
curve_name(?secp384r1) -> <<"P-384">>;
curve_name(?secp521r1) -> <<"P-521">>.

curve_size(?secp256r1) -> 32;
curve_size(?secp384r1) -> 48;
curve_size(?secp521r1) -> 66;
curve_size(Oid) -> erlang:error({badarg, {"unsupported curve", Oid}}).

%%--------------------------------------------------------------------
%% Bytes
%%--------------------------------------------------------------------

%% base64url without padding (RFC 7515 §2).
b64(Data) ->
    Plain = base64:encode(iolist_to_binary(Data)),
    << <<(case C of $+ -> $-; $/ -> $_; _ -> C end)>> || <<C>> <= Plain, C =/= $= >>.

json(true) -> <<"true">>;
json(false) -> <<"false">>;
json(null) -> <<"null">>;
json(B) when is_binary(B) -> string(B);
json(I) when is_integer(I) -> integer_to_binary(I);
json(F) when is_float(F) -> float_to_binary(F, [short]);
json(L) when is_list(L) -> [$[, lists:join($,, [json(V) || V <- L]), $]];
json(M) when is_map(M) ->
    Members = lists:sort([{name(K), V} || {K, V} <- maps:to_list(M)]),
    [${, lists:join($,, [[string(K), $:, json(V)] || {K, V} <- Members]), $}];
json(Other) ->
    erlang:error({badarg, {"cannot be written as JSON", Other}}).

name(K) when is_binary(K) -> K;
name(K) when is_atom(K) -> atom_to_binary(K);
name(K) -> erlang:error({badarg, {"a JSON member name must be a binary or an atom, got", K}}).

string(B) ->
    [$", << <<(escape(C))/binary>> || <<C>> <= B >>, $"].

escape($") -> <<"\\\"">>;
escape($\\) -> <<"\\\\">>;
escape($\n) -> <<"\\n">>;
escape($\r) -> <<"\\r">>;
escape($\t) -> <<"\\t">>;
escape(C) when C < 16#20 -> iolist_to_binary(io_lib:format("\\u~4.16.0b", [C]));
escape(C) -> <<C>>.

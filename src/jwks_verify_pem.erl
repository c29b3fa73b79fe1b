%% @private
%% PEM public keys and certificates into a JWKS document, so that a key set
%% from PEM goes through the C core's key checks (RSA size and exponent, EC
%% points, small-order Ed25519 keys) exactly as one from a JWKS does.
-module(jwks_verify_pem).

-export([to_jwks/1]).

-include_lib("public_key/include/public_key.hrl").

-define(RSA, {1, 2, 840, 113549, 1, 1, 1}).
-define(RSA_PSS, {1, 2, 840, 113549, 1, 1, 10}).
-define(EC, {1, 2, 840, 10045, 2, 1}).
-define(ED25519, {1, 3, 101, 112}).

-define(CURVES, [{{1, 2, 840, 10045, 3, 1, 7}, <<"P-256">>, 32},
                 {{1, 3, 132, 0, 34}, <<"P-384">>, 48},
                 {{1, 3, 132, 0, 35}, <<"P-521">>, 66}]).

-type entry() :: #{pem := binary(), alg := binary(), kid => binary()}.

%% @doc The JWKS (JSON text) of the given entries, or why one can't be read.
%% Each PEM holds one public key: `PUBLIC KEY' (SubjectPublicKeyInfo),
%% `RSA PUBLIC KEY' (PKCS#1) or `CERTIFICATE' (the first one, the leaf).
-spec to_jwks([entry()]) ->
    {ok, binary()} | {error, private_key | invalid_key | key_type_mismatch}.
to_jwks(Entries) ->
    try
        Keys = [jwk(E) || E <- Entries],
        {ok, iolist_to_binary(["{\"keys\":[", lists:join($,, Keys), "]}"])}
    catch
        throw:Reason -> {error, Reason}
    end.

jwk(#{pem := Pem, alg := Alg} = E) ->
    Public = block(Pem),
    fits(Alg, Public) orelse throw(key_type_mismatch),
    Members = [{<<"alg">>, Alg}, {<<"use">>, <<"sig">>} | kid(E)] ++ Public,
    ["{", lists:join($,, [[string(K), ":", string(V)] || {K, V} <- Members]), "}"].

%% The caller names the alg; a PEM key of another type is their mistake, said
%% now rather than on every token.
fits(<<"RS", _/binary>>, [{_, <<"RSA">>} | _]) -> true;
fits(<<"PS", _/binary>>, [{_, <<"RSA">>} | _]) -> true;
fits(<<"ES256">>, [_, {_, <<"P-256">>} | _]) -> true;
fits(<<"ES384">>, [_, {_, <<"P-384">>} | _]) -> true;
fits(<<"ES512">>, [_, {_, <<"P-521">>} | _]) -> true;
fits(<<"EdDSA">>, [_, {_, <<"Ed25519">>} | _]) -> true;
fits(_, _) -> false.

kid(#{kid := Kid}) -> [{<<"kid">>, Kid}];
kid(_) -> [].

%% A private key where a public one belongs is refused, never reduced to its
%% public half: whoever pasted it has published the issuer's signing key.
block(Pem) ->
    Blocks = try public_key:pem_decode(Pem) catch _:_ -> throw(invalid_key) end,
    Types = [T || {T, _, _} <- Blocks],
    Private = ['RSAPrivateKey', 'ECPrivateKey', 'DSAPrivateKey', 'PrivateKeyInfo',
               'EncryptedPrivateKeyInfo'],
    case {lists:any(fun(T) -> lists:member(T, Private) end, Types), Blocks} of
        {true, _} -> throw(private_key);
        {false, [{'Certificate', Der, not_encrypted} | _]} -> certificate(Der);
        {false, [{'SubjectPublicKeyInfo', Der, not_encrypted}]} -> spki(Der);
        {false, [{'RSAPublicKey', Der, not_encrypted}]} -> rsa(Der);
        _ -> throw(invalid_key)
    end.

certificate(Der) ->
    try public_key:pkix_decode_cert(Der, plain) of
        #'Certificate'{tbsCertificate = #'TBSCertificate'{subjectPublicKeyInfo = Spki}} ->
            spki(public_key:der_encode('SubjectPublicKeyInfo', Spki))
    catch
        _:_ -> throw(invalid_key)
    end.

spki(Der) ->
    #'SubjectPublicKeyInfo'{algorithm = #'AlgorithmIdentifier'{algorithm = Oid,
                                                               parameters = Params},
                            subjectPublicKey = Key} = decode('SubjectPublicKeyInfo', Der),
    case Oid of
        ?RSA -> rsa(Key);
        ?RSA_PSS -> rsa(Key);
        ?EC -> ec(Params, Key);
        ?ED25519 when byte_size(Key) =:= 32 ->
            [{<<"kty">>, <<"OKP">>}, {<<"crv">>, <<"Ed25519">>}, {<<"x">>, b64(Key)}];
        _ -> throw(invalid_key)
    end.

rsa(Der) ->
    #'RSAPublicKey'{modulus = N, publicExponent = E} = decode('RSAPublicKey', Der),
    [{<<"kty">>, <<"RSA">>}, {<<"n">>, b64(binary:encode_unsigned(N))},
     {<<"e">>, b64(binary:encode_unsigned(E))}].

%% Uncompressed points only (SEC 1 §2.3.3, 0x04 || X || Y): what every
%% issuer and openssl emit; the core checks the point is on the curve.
ec(Params, Point) ->
    Curve = case decode('EcpkParameters', Params) of
                {namedCurve, Oid} -> lists:keyfind(Oid, 1, ?CURVES);
                _ -> false
            end,
    case {Curve, Point} of
        {{_, Crv, Size}, <<4, XY/binary>>} when byte_size(XY) =:= 2 * Size ->
            <<X:Size/binary, Y:Size/binary>> = XY,
            [{<<"kty">>, <<"EC">>}, {<<"crv">>, Crv}, {<<"x">>, b64(X)}, {<<"y">>, b64(Y)}];
        _ ->
            throw(invalid_key)
    end.

decode(Type, Der) when is_binary(Der) ->
    try public_key:der_decode(Type, Der) catch _:_ -> throw(invalid_key) end;
decode(_Type, _Other) ->
    throw(invalid_key).

b64(Bin) ->
    << <<(url(C))>> || <<C>> <= base64:encode(Bin), C =/= $= >>.

url($+) -> $-;
url($/) -> $_;
url(C) -> C.

%% JSON string: the values here are base64url, names, and the caller's kid.
string(S) ->
    [$", [escape(C) || <<C/utf8>> <= S], $"].

escape($") -> "\\\"";
escape($\\) -> "\\\\";
escape(C) when C < 16#20 -> io_lib:format("\\u~4.16.0b", [C]);
escape(C) -> <<C/utf8>>.

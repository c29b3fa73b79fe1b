#!/usr/bin/env bash
# Guards the rebar3 build: what a plain-Erlang user gets from this repository,
# with no Mix and no Elixir anywhere (`mix` and `elixir` are shadowed by stubs
# that fail). Run by `make test-rebar3` and .ci/run; about a minute on 2 cores.
#
#   1. a fresh `git clone` (no _build): `rebar3 compile`, then `rebar3 eunit`
#   2. a throwaway rebar3 app using jwks_verify from `_checkouts/jwks_verify`
#   3. the same app with jwks_verify as a git dependency in `deps`, built in
#      the app's _build/default/lib, where REBAR_ROOT_DIR is the app's root
#
# In 2 and 3 an Erlang module of the app starts jwks_verify, builds a key set
# from a JWKS written by hand around a fresh RSA-2048 key, verifies an RS256
# token signed with public_key:sign/3, and checks that tampered tokens get
# {error, bad_signature}. Everything comes from the committed HEAD: commit
# first to test local changes. Exits non-zero on the first failure.
set -euo pipefail

root=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
sha=$(git -C "$root" rev-parse HEAD)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ -n "$(git -C "$root" status --porcelain --untracked-files=no)" ]; then
    echo "note: uncommitted changes in $root are not tested (HEAD is $sha)"
fi

# Mix and Elixir must not be needed: any call fails the step that made it.
mkdir -p "$tmp/no-elixir"
for tool in mix elixir elixirc iex; do
    printf '#!/bin/sh\necho "rebar3 build called %s" >&2\nexit 97\n' "$tool" >"$tmp/no-elixir/$tool"
    chmod +x "$tmp/no-elixir/$tool"
done
export PATH="$tmp/no-elixir:$PATH"

clone() {
    git clone -q --no-checkout "$root" "$1"
    git -C "$1" checkout -q --detach "$sha"
}

echo "== rebar3 compile, rebar3 eunit (fresh clone of $sha)"
clone "$tmp/fresh"
(cd "$tmp/fresh" && rebar3 compile && rebar3 eunit)

# $1: the app's directory, $2: its deps term.
consumer_app() {
    mkdir -p "$1/src"
    cat >"$1/rebar.config" <<EOF
{erl_opts, [debug_info, warnings_as_errors]}.
{deps, $2}.
EOF
    cat >"$1/src/consumer.app.src" <<'EOF'
{application, consumer, [
    {description, "Uses jwks_verify as a rebar3 dependency"},
    {vsn, "0.0.1"},
    {applications, [kernel, stdlib, public_key, jwks_verify]}
]}.
EOF
    cat >"$1/src/consumer.erl" <<'EOF'
-module(consumer).
-export([main/0]).

-include_lib("public_key/include/public_key.hrl").

main() ->
    try check() of
        ok -> io:format("consumer: ok~n"), halt(0)
    catch
        Class:Reason:Stack ->
            io:format(standard_error, "consumer: ~p:~p~n~p~n", [Class, Reason, Stack]),
            halt(1)
    end.

check() ->
    {ok, Started} = application:ensure_all_started(jwks_verify),
    true = lists:member(jwks_verify, Started),
    non_existing = code:which('Elixir.Kernel'),
    Priv = code:priv_dir(jwks_verify),
    true = filelib:is_regular(filename:join(Priv, "jwks_verify_nif.so")),
    io:format("consumer: NIF from ~ts~n", [Priv]),

    #'RSAPrivateKey'{modulus = N, publicExponent = E} = Key =
        public_key:generate_key({rsa, 2048, 65537}),
    Jwks = <<"{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"k1\",\"use\":\"sig\",\"alg\":\"RS256\",",
             "\"n\":\"", (b64(binary:encode_unsigned(N)))/binary, "\",",
             "\"e\":\"", (b64(binary:encode_unsigned(E)))/binary, "\"}]}">>,
    {ok, KeySet} = jwks_verify:key_set(Jwks),

    Now = os:system_time(second),
    Exp = Now + 300,
    Header = b64(<<"{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"k1\"}">>),
    Payload = b64(iolist_to_binary(io_lib:format(
        "{\"iss\":\"https://issuer.example/\",\"sub\":\"user-1\",\"aud\":\"my-api\","
        "\"iat\":~b,\"exp\":~b}", [Now, Exp]))),
    Input = <<Header/binary, ".", Payload/binary>>,
    Sig = public_key:sign(Input, sha256, Key),
    Token = <<Input/binary, ".", (b64(Sig))/binary>>,
    Opts = #{iss => <<"https://issuer.example/">>, aud => <<"my-api">>},

    Claims = #{<<"iss">> => <<"https://issuer.example/">>, <<"sub">> => <<"user-1">>,
               <<"aud">> => <<"my-api">>, <<"iat">> => Now, <<"exp">> => Exp},
    {ok, Claims} = jwks_verify:verify(Token, KeySet, Opts),

    %% The same signature over other claims, and one flipped signature bit.
    Forged = b64(<<"{\"iss\":\"https://issuer.example/\",\"sub\":\"admin\",\"aud\":\"my-api\"}">>),
    {error, bad_signature} =
        jwks_verify:verify(<<Header/binary, ".", Forged/binary, ".", (b64(Sig))/binary>>, KeySet, Opts),
    <<First, Rest/binary>> = Sig,
    {error, bad_signature} =
        jwks_verify:verify(<<Input/binary, ".", (b64(<<(First bxor 1), Rest/binary>>))/binary>>,
                           KeySet, Opts),
    ok.

%% RFC 7515 §2: base64url without padding (base64:encode/2 has no urlsafe mode before OTP 26).
b64(Bin) ->
    << <<(url(C))>> || <<C>> <= base64:encode(Bin), C =/= $= >>.

url($+) -> $-;
url($/) -> $_;
url(C) -> C.
EOF
}

# $1: the app's directory, $2: where rebar3 put jwks_verify.
run_consumer() {
    (cd "$1" && rebar3 compile)
    [ -f "$1/$2/priv/jwks_verify_nif.so" ] || { echo "no NIF in $1/$2/priv" >&2; exit 1; }
    (cd "$1" && erl -noshell -pa _build/default/lib/consumer/ebin -pa "$2/ebin" -eval 'consumer:main()')
}

echo "== consumer app, jwks_verify in _checkouts/"
# A checkout overrides a declared dependency, here a bare package name: nothing is fetched.
consumer_app "$tmp/checkouts" "[jwks_verify]"
mkdir -p "$tmp/checkouts/_checkouts"
clone "$tmp/checkouts/_checkouts/jwks_verify"
run_consumer "$tmp/checkouts" _build/default/checkouts/jwks_verify

echo "== consumer app, jwks_verify as a git dependency"
consumer_app "$tmp/gitdep" "[{jwks_verify, {git, \"file://$root\", {ref, \"$sha\"}}}]"
run_consumer "$tmp/gitdep" _build/default/lib/jwks_verify

echo "== rebar3: all passed"

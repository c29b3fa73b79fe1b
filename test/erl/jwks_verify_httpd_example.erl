%% The README's plain-Erlang example, as a module an Erlang user would write:
%% a JWKS cache for the issuer, OTP's httpd guarded by jwks_verify_httpd, a
%% handler reading the verified claims, and a direct verification call.
%% test/jwks_verify_httpd_test.exs runs it against a loopback issuer.
-module(jwks_verify_httpd_example).

-export([start/1, stop/1, verify/1]).
%% httpd module callback
-export([do/1]).

-include_lib("inets/include/httpd.hrl").

-define(CACHE, example_jwks).
-define(ISS, <<"https://issuer.test/">>).
-define(AUD, <<"api.test">>).

-spec start(binary()) -> {ok, #{atom() => term()}}.
start(JwksUri) ->
    {ok, Cache} = jwks_verify_cache:start_link(?CACHE, #{jwks_uri => JwksUri,
                                                         allow_http => true,
                                                         await_first_fetch => 5000}),
    {ok, Httpd} = inets:start(httpd, [
        {port, 0}, {bind_address, {127, 0, 0, 1}},
        {server_name, "example"}, {server_root, "/tmp"}, {document_root, "/tmp"},
        {socket_type, {ip_comm, [{nodelay, true}]}},
        {modules, [jwks_verify_httpd, ?MODULE]},
        {jwks_verify, [{cache, ?CACHE}, {iss, ?ISS}, {aud, ?AUD},
                       {public_paths, [<<"/public">>]}]}]),
    [{port, Port}] = httpd:info(Httpd, [port]),
    {ok, #{cache => Cache, httpd => Httpd, port => Port}}.

-spec stop(#{atom() => term()}) -> ok.
stop(#{cache := Cache, httpd := Httpd}) ->
    ok = inets:stop(httpd, Httpd),
    %% Linked to its starter, the cache may already be gone with it.
    case is_process_alive(Cache) of
        true -> jwks_verify_cache:stop(?CACHE);
        false -> ok
    end.

%% Verification without httpd: the same cache, by name.
-spec verify(binary()) -> {ok, jwks_verify:claims()} | {error, jwks_verify:reason()}.
verify(Token) ->
    jwks_verify:verify(Token, ?CACHE, #{iss => ?ISS, aud => ?AUD}).

%% Runs after jwks_verify_httpd, only for requests it let through.
do(#mod{data = Data} = ModData) ->
    case proplists:is_defined(response, Data) of
        true ->
            {proceed, Data};
        false ->
            Body = case jwks_verify_httpd:claims(ModData) of
                undefined -> <<"public">>;
                #{<<"sub">> := Sub} -> <<"hello ", Sub/binary>>
            end,
            Head = [{code, 200}, {content_type, "text/plain"},
                    {content_length, integer_to_list(byte_size(Body))}],
            {proceed, [{response, {response, Head, [Body]}}]}
    end.
